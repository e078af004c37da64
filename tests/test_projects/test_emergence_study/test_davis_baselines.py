# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/emergence_study/tools/davis_baselines.py on a generated DAVIS tree."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from conftest import load_tool

TOOL = 'projects/emergence_study/tools/davis_baselines.py'


def _tree(root, frames=3, size=(24, 40)):
    """One video: a bright square object (id 1) on a dark background."""
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
    return str(root), mask.mean()


def test_colour_kmeans_orders_clusters_by_luminance():
    tool = load_tool(TOOL)
    img = np.zeros((8, 12, 3), np.uint8)
    img[:, 6:] = 200  # bright right half
    regions = tool.colour_kmeans(img, (6, 4), k=2, seed=0)
    assert regions.shape == (8, 12)
    assert (regions[:, :6] == 0).all() and (regions[:, 6:] == 1).all()


def test_baselines_scored_with_the_davis_protocol(tmp_path):
    tool = load_tool(TOOL)
    root, fg_fraction = _tree(tmp_path / 'davis')
    out = tmp_path / 'scores.json'
    tool.main([
        root, '--size', '40', '24', '--img-suffix', '.png', '--out',
        str(out)
    ])
    res = json.loads(out.read_text())
    # k-means separates the flat bright object exactly: J = F = 100
    assert res['colour_kmeans']['J-Mean'] == pytest.approx(100.)
    assert res['colour_kmeans']['F-Mean'] == pytest.approx(100.)
    # one whole-frame proposal: J = object area / frame area
    assert res['all_foreground']['J-Mean'] == pytest.approx(
        100 * fg_fraction, abs=0.01)
    assert res['all_foreground']['IoU'] == pytest.approx(
        100 * fg_fraction, abs=0.01)
