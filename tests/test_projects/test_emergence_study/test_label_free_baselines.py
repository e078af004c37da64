# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/emergence_study/tools/label_free_baselines.py: the label-free
baselines scored by the standard test loop of a config, written as rows."""
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT, load_tool
from PIL import Image

from projects.emergence_study.emergence_study import ColourKMeansSegmentor

TOOL = 'projects/emergence_study/tools/label_free_baselines.py'
DAVIS_CONFIG = osp.join(
    REPO_ROOT,
    'configs/factdiff/factdiff_unet-probe-k2_1xb16-1k_davis2017-64x64.py')


def _davis_tree(root, frames=3, size=(24, 40)):
    """One video: a bright box (object 1) moving over a dark background."""
    os.makedirs(osp.join(root, 'ImageSets', '2017'))
    with open(osp.join(root, 'ImageSets', '2017', 'val.txt'), 'w') as f:
        f.write('box\n')
    img_dir = osp.join(root, 'JPEGImages', '480p', 'box')
    ann_dir = osp.join(root, 'Annotations', '480p', 'box')
    os.makedirs(img_dir)
    os.makedirs(ann_dir)
    for t in range(frames):
        mask = np.zeros(size, np.uint8)
        mask[4:16, 8 + 4 * t:24 + 4 * t] = 1
        img = np.where(mask[..., None] == 1, 230, 20).astype(np.uint8)
        Image.fromarray(np.repeat(img, 3, axis=2)).save(
            osp.join(img_dir, f'{t:05d}.png'))
        png = Image.fromarray(mask, mode='P')
        png.putpalette([0, 0, 0, 128, 0, 0] + [0] * 762)
        png.save(osp.join(ann_dir, f'{t:05d}.png'))
    return str(root), float(mask.mean())


def test_colour_kmeans_ids_are_ordered_by_luminance():
    # the dark half is region 0 in both images, whichever side it is on
    img = torch.full((2, 3, 4, 6), -0.8)
    img[0, :, :, 3:] = 0.9
    img[1, :, :, :3] = 0.9
    ids = ColourKMeansSegmentor().region_ids(img)
    assert (ids[0, :, :3] == 0).all() and (ids[0, :, 3:] == 1).all()
    assert (ids[1, :, :3] == 1).all() and (ids[1, :, 3:] == 0).all()


def test_davis_baselines_through_the_davis_config(tmp_path):
    tool = load_tool(TOOL)
    root, fg_fraction = _davis_tree(tmp_path / 'davis')
    out = tmp_path / 'rows.json'
    loader = 'test_dataloader.'
    tool.main([
        DAVIS_CONFIG, '--dataset', 'davis_toy', '--out',
        str(out), '--work-dir',
        str(tmp_path / 'runs'), '--only', 'all-foreground', 'colour k-means',
        '--cfg-options', f'{loader}dataset.data_root={root}',
        f'{loader}dataset.img_suffix=.png', f'{loader}num_workers=0',
        f'{loader}persistent_workers=False', f'{loader}batch_size=1',
        '--method-suffix', ' (toy)'
    ])
    rows = json.loads(out.read_text())
    # the suffix tells these rows from the baselines' rows of other splits
    value = {
        (r['method'].replace(' (toy)', ''), r['metric']): r['value']
        for r in rows if r['method'].endswith(' (toy)')
    }
    assert len(value) == len(rows)
    assert {r['labels_used'] for r in rows} == {0}
    assert {r['iterations'] for r in rows} == {0}
    # colour k-means separates the flat bright box; its id (1, the brighter
    # cluster) is the same proposal in every frame
    assert value[('colour k-means', 'J')] > 95
    assert value[('colour k-means', 'J&F')] > 90
    # one whole-frame proposal: J = the object's share of the frame, no
    # boundary, F = 0
    assert value[('all-foreground', 'J')] == pytest.approx(
        100 * fg_fraction, abs=0.01)
    assert value[('all-foreground', 'F')] == 0
    assert value[('all-foreground', 'fg_IoU')] == pytest.approx(
        100 * fg_fraction, abs=0.01)
