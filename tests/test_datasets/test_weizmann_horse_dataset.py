# Copyright (c) mmfactdiff contributors. All rights reserved.
import os.path as osp

import numpy as np
import pytest
from conftest import REPO_ROOT
from mmseg.registry import DATASETS
from PIL import Image

SHARED = osp.normpath(
    osp.join(REPO_ROOT, '..', 'shared', 'data', 'weizmann_horse'))
TEST_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]


def _make_layout(root, ids=('horse001', 'horse002'), masks=True):
    (root / 'images').mkdir(parents=True)
    if masks:
        (root / 'masks').mkdir()
    (root / 'all.txt').write_text('\n'.join(ids) + '\n')
    rng = np.random.default_rng(0)
    for i, name in enumerate(ids):
        h, w = 20 + i, 30
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(
            root / 'images' / f'{name}.jpg')
        if masks:
            m = np.zeros((h, w), np.uint8)
            m[5:15, 8:20] = 1
            img = Image.fromarray(m, mode='P')
            img.putpalette([0, 0, 0, 128, 64, 0] + [0] * 762)
            img.save(root / 'masks' / f'{name}.png')
    return str(root)


def test_layout_with_masks(tmp_path):
    root = _make_layout(tmp_path / 'horse')
    ds = DATASETS.build(
        dict(
            type='WeizmannHorseDataset',
            data_root=root,
            pipeline=TEST_PIPELINE))
    assert len(ds) == 2 and ds.metainfo['classes'] == ('background', 'horse')
    sample = ds[1]
    assert sample['inputs'].shape == (3, 64, 64)
    gt = sample['data_samples'].gt_sem_seg.data
    assert gt.shape == (1, 21, 30)  # full size: scored at the photo's size
    assert set(gt.unique().tolist()) == {0, 1}


def test_masks_are_optional(tmp_path):
    root = _make_layout(tmp_path / 'horse', masks=False)
    ds = DATASETS.build(dict(type='WeizmannHorseDataset', data_root=root))
    assert 'seg_map_path' not in ds.get_data_info(0)
    root = _make_layout(tmp_path / 'horse2')
    ds = DATASETS.build(
        dict(type='WeizmannHorseDataset', data_root=root, with_masks=False))
    assert 'seg_map_path' not in ds.get_data_info(0)


def test_bad_layouts_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match='data_root'):
        DATASETS.build(
            dict(
                type='WeizmannHorseDataset',
                data_root=str(tmp_path / 'nowhere')))
    root = _make_layout(tmp_path / 'horse')
    (tmp_path / 'horse' / 'masks' / 'horse002.png').unlink()
    with pytest.raises(FileNotFoundError, match='horse002.jpg'):
        DATASETS.build(dict(type='WeizmannHorseDataset', data_root=root))
    with open(osp.join(root, 'all.txt'), 'a') as f:
        f.write('horse999\n')
    with pytest.raises(FileNotFoundError, match='horse999'):
        DATASETS.build(
            dict(
                type='WeizmannHorseDataset', data_root=root, with_masks=False))


@pytest.mark.skipif(
    not osp.isdir(SHARED), reason='shared Weizmann Horse data not present')
def test_reads_the_real_files():
    ds = DATASETS.build(
        dict(
            type='WeizmannHorseDataset',
            data_root=SHARED,
            pipeline=TEST_PIPELINE,
            indices=4))
    assert len(ds) == 4
    for i in range(4):
        sample = ds[i]
        gt = sample['data_samples'].gt_sem_seg.data
        meta = sample['data_samples'].metainfo
        assert gt.shape[1:] == meta['ori_shape']
        frac = gt.float().mean().item()
        assert set(gt.unique().tolist()) == {0, 1} and 0.03 < frac < 0.5
    full = DATASETS.build(
        dict(type='WeizmannHorseDataset', data_root=SHARED, with_masks=False))
    assert len(full) == 256
