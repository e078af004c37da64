# Copyright (c) mmfactdiff contributors. All rights reserved.
import hashlib
import pickle
import re

import numpy as np
import pytest
import torch
from mmseg.registry import DATASETS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules

from mmfactdiff.datasets import SyntheticShapesDataset
from mmfactdiff.datasets.synthetic_shapes_dataset import SHAPE_KINDS

register_all_modules(init_default_scope=True)


def _ds(**kwargs):
    cfg = dict(num_samples=64, img_size=32)
    cfg.update(kwargs)
    return SyntheticShapesDataset(**cfg)


def _digest(arr):
    return hashlib.sha1(arr.tobytes()).hexdigest()


def test_registered():
    assert DATASETS.get('SyntheticShapesDataset') is SyntheticShapesDataset
    ds = DATASETS.build(
        dict(type='SyntheticShapesDataset', num_samples=3, img_size=32))
    assert len(ds) == 3


def test_determinism_same_seed_same_bytes():
    a, b = _ds(seed=3), _ds(seed=3)
    for i in (0, 1, 17, 63):
        img_a, mask_a = a.render(i)
        img_b, mask_b = b.render(i)
        assert img_a.tobytes() == img_b.tobytes()
        assert mask_a.tobytes() == mask_b.tobytes()
        info_a, info_b = a.get_data_info(i), b.get_data_info(i)
        assert info_a['img'].tobytes() == info_b['img'].tobytes()


def test_image_depends_only_on_seed_and_index():
    small, big = _ds(num_samples=5), _ds(num_samples=500)
    assert _digest(small.render(4)[0]) == _digest(big.render(4)[0])
    # a subset keeps the original sample identity
    sub = big.get_subset([7, 2])
    assert _digest(sub.get_data_info(0)['img']) == _digest(
        big.get_data_info(7)['img'])
    assert sub.get_data_info(1)['img_path'].endswith('000002.png')
    # the label mode does not change the drawing, only the ids
    binary = _ds(label_mode='binary').render(9)
    kind = _ds(label_mode='kind').render(9)
    assert binary[0].tobytes() == kind[0].tobytes()
    assert np.array_equal(binary[1] > 0, kind[1] > 0)


def test_seeds_and_indices_differ_and_splits_do_not_overlap():
    train, val = _ds(seed=0), _ds(seed=1)
    train_set = {_digest(train.render(i)[0]) for i in range(64)}
    val_set = {_digest(val.render(i)[0]) for i in range(64)}
    assert len(train_set) == 64 and len(val_set) == 64
    assert not train_set & val_set


def test_data_info_fields_are_pipeline_ready():
    ds = _ds(img_size=48, seed=5)
    info = ds.get_data_info(12)
    img_rgb, mask = ds.render(12)
    assert info['img'].dtype == np.uint8 and info['img'].shape == (48, 48, 3)
    assert info['img'].flags.c_contiguous
    # BGR like mmcv.imread
    np.testing.assert_array_equal(info['img'], img_rgb[..., ::-1])
    np.testing.assert_array_equal(info['gt_seg_map'], mask)
    assert info['gt_seg_map'].dtype == np.uint8
    assert info['gt_seg_map'].shape == (48, 48)
    assert info['seg_fields'] == ['gt_seg_map']
    assert tuple(info['img_shape']) == (48, 48)
    assert tuple(info['ori_shape']) == (48, 48)
    assert info['img_path'] == 'synthetic/seed5/000012.png'
    assert info['seg_map_path'] is None
    assert info['reduce_zero_label'] is False


def test_data_list_is_light():
    ds = _ds(num_samples=10, lazy_init=True)
    records = ds.load_data_list()
    assert len(records) == 10
    for rec in records:
        assert not any(isinstance(v, np.ndarray) for v in rec.values())
        assert len(pickle.dumps(rec)) < 400


@pytest.mark.parametrize('serialize_data', [True, False])
def test_serialization_modes(serialize_data):
    ds = _ds(num_samples=4, serialize_data=serialize_data)
    assert len(ds) == 4
    np.testing.assert_array_equal(
        ds.get_data_info(2)['gt_seg_map'],
        ds.render(2)[1])


@pytest.mark.parametrize('img_size', [32, 64])
def test_mask_coverage_and_both_classes(img_size):
    ds = _ds(img_size=img_size)
    cov = []
    for i in range(300):
        mask = ds.render(i)[1]
        assert set(np.unique(mask).tolist()) == {0, 1}
        cov.append(mask.mean())
    cov = np.array(cov)
    # stated range 10-50%, with slack for pixel rounding
    assert cov.min() >= 0.08 and cov.max() <= 0.55
    # and the range is actually used
    assert cov.min() < 0.15 and cov.max() > 0.4


def test_mask_matches_image_edges():
    ds = _ds(seed=2)
    boundary, background = [], []
    for i in range(40):
        img, mask = ds.render(i)
        img, mask = img.astype(np.float64), mask.astype(bool)
        diff = np.abs(img[:, 1:] - img[:, :-1]).sum(-1)
        boundary.append(diff[mask[:, 1:] != mask[:, :-1]].mean())
        background.append(diff[~mask[:, 1:] & ~mask[:, :-1]].mean())
    # the object outline is an image edge, the smooth background is not
    assert np.mean(boundary) > 3 * np.mean(background)
    # a mask from another image does not line up with the edges
    img, _ = ds.render(0)
    other = ds.render(1)[1].astype(bool)
    diff = np.abs(img[:, 1:].astype(float) - img[:, :-1]).sum(-1)
    assert diff[other[:, 1:] != other[:, :-1]].mean() < boundary[0]


def test_object_and_background_colours_share_a_distribution():
    ds = _ds(seed=4)
    obj, bg, dist = [], [], []
    for i in range(300):
        img, mask = ds.render(i)
        mask = mask.astype(bool)
        o, b = img[mask].mean(0), img[~mask].mean(0)
        obj.append(o)
        bg.append(b)
        dist.append(np.linalg.norm(o - b))
    # same average colour: colour alone is no label
    assert np.abs(np.mean(obj, 0) - np.mean(bg, 0)).max() < 20
    # but objects usually stand out in colour
    assert np.median(dist) > 40


def test_kind_mode_labels_and_metainfo():
    ds = _ds(label_mode='kind', num_kinds=8, num_samples=400)
    meta = ds.metainfo
    assert meta['classes'] == ('background', ) + SHAPE_KINDS
    assert len(meta['palette']) == 9
    seen = set()
    for i in range(400):
        mask = ds.render(i)[1]
        labels = set(np.unique(mask).tolist())
        assert 0 in labels and labels <= set(range(9))
        seen |= labels
    assert seen == set(range(9))


def test_binary_mode_metainfo():
    ds = _ds(num_kinds=4)
    assert ds.metainfo['classes'] == ('background', 'object')
    assert len(ds.metainfo['palette']) == 2
    assert ds.metainfo['label_map'] is None
    # test_mode needs classes: they are always defined
    assert len(_ds(test_mode=True)) == 64


def test_num_kinds_limits_kinds():
    ds = _ds(label_mode='kind', num_kinds=2, num_samples=100)
    assert ds.metainfo['classes'] == ('background', 'ellipse', 'rectangle')
    seen = set()
    for i in range(100):
        seen |= set(np.unique(ds.render(i)[1]).tolist())
    assert seen == {0, 1, 2}


def test_multiple_objects():
    ds = _ds(label_mode='kind', num_kinds=8, objects_per_image=(3, 3))
    counts = [len(np.unique(ds.render(i)[1])) - 1 for i in range(50)]
    # occlusion may hide a kind or two kinds may repeat, but not always
    assert max(counts) == 3


def test_through_real_mmseg_pipeline():
    pipeline = [dict(type='RandomFlip', prob=0.5), dict(type='PackSegInputs')]
    ds = DATASETS.build(
        dict(
            type='SyntheticShapesDataset',
            num_samples=8,
            img_size=40,
            pipeline=pipeline))
    for i in range(8):
        out = ds[i]
        inputs, sample = out['inputs'], out['data_samples']
        assert isinstance(inputs, torch.Tensor)
        assert inputs.dtype == torch.uint8 and inputs.shape == (3, 40, 40)
        assert isinstance(sample, SegDataSample)
        gt = sample.gt_sem_seg.data
        assert gt.shape == (1, 40, 40)
        img_rgb, mask = ds.render(i)
        if sample.flip:
            img_rgb, mask = img_rgb[:, ::-1], mask[:, ::-1]
        np.testing.assert_array_equal(inputs.numpy().transpose(1, 2, 0),
                                      img_rgb[..., ::-1])
        np.testing.assert_array_equal(gt[0].numpy(), mask)
        assert sample.img_path == f'synthetic/seed0/{i:06d}.png'
        assert tuple(sample.ori_shape) == (40, 40)


def test_resize_in_pipeline():
    ds = _ds(
        num_samples=2,
        pipeline=[
            dict(type='Resize', scale=(64, 64), keep_ratio=False),
            dict(type='PackSegInputs')
        ])
    out = ds[0]
    assert out['inputs'].shape == (3, 64, 64)
    assert out['data_samples'].gt_sem_seg.data.shape == (1, 64, 64)
    assert set(out['data_samples'].gt_sem_seg.data.unique().tolist()) <= {0, 1}


@pytest.mark.parametrize('kwargs, name', [
    (dict(img_size=16), 'img_size'),
    (dict(img_size=129), 'img_size'),
    (dict(img_size=64.0), 'img_size'),
    (dict(num_kinds=0), 'num_kinds'),
    (dict(num_kinds=len(SHAPE_KINDS) + 1), 'num_kinds'),
    (dict(num_samples=0), 'num_samples'),
    (dict(objects_per_image=(2, 1)), r'objects_per_image\[1\]'),
    (dict(objects_per_image=(0, 1)), r'objects_per_image\[0\]'),
    (dict(objects_per_image=3), 'objects_per_image'),
    (dict(label_mode='instance'), 'label_mode'),
    (dict(coverage=(0.3, 0.2)), 'coverage'),
    (dict(coverage=(0.0, 0.2)), 'coverage'),
    (dict(coverage=(0.5, 0.8)), 'coverage'),
    (dict(coverage=0.2), 'coverage'),
    (dict(background_waves=(0.1, 0.05)), 'background_waves'),
    (dict(background_waves=(-0.1, 0.0)), 'background_waves'),
    (dict(background_waves=0.05), 'background_waves'),
    (dict(textures=()), 'textures'),
    (dict(textures=('dots', )), 'textures'),
    (dict(textures='stripe'), 'textures'),
    (dict(seed=-1), 'seed'),
    (dict(metainfo=dict(classes=('a', 'b', 'c'))), 'classes'),
])
def test_invalid_args(kwargs, name):
    with pytest.raises(ValueError, match=name):
        _ds(**kwargs)


def test_error_message_states_range():
    with pytest.raises(ValueError, match=re.escape('[32, 128]')):
        _ds(img_size=256)


def _background_residual(img, mask):
    """Per-channel std of the background pixels around their best-fitting
    plane (a linear gradient has none), in uint8 units."""
    ys, xs = np.nonzero(mask == 0)
    design = np.stack([xs, ys, np.ones_like(xs)], 1).astype(np.float64)
    res = []
    for c in range(3):
        v = img[..., c][mask == 0].astype(np.float64)
        coef = np.linalg.lstsq(design, v, rcond=None)[0]
        res.append((v - design @ coef).std())
    return float(np.mean(res))


def test_background_waves_off_leaves_a_gradient_plus_pixel_noise():
    plain = _ds(background_waves=(0, 0))
    default = _ds()
    plain_res = [_background_residual(*plain.render(i)) for i in range(16)]
    wavy_res = [_background_residual(*default.render(i)) for i in range(16)]
    # pixel noise has std 0.015 * 255 = 3.8
    assert max(plain_res) < 4.5
    assert np.mean(wavy_res) > 2 * np.mean(plain_res)


def test_difficulty_options_change_nothing_else():
    default = _ds()
    explicit = _ds(
        coverage=(0.1, 0.5),
        background_waves=(0.03, 0.08),
        textures=('stripe', 'checker'))
    stripes = _ds(textures=('stripe', ))
    easy = _ds(background_waves=(0, 0), textures=('stripe', ))
    for i in range(16):
        img, mask = default.render(i)
        assert img.tobytes() == explicit.render(i)[0].tobytes()
        # the same random draws: shapes and places do not move
        img_s, mask_s = stripes.render(i)
        assert np.array_equal(mask, mask_s)
        assert np.array_equal(mask, easy.render(i)[1])
        # textures touch the objects only
        assert np.array_equal(img[mask == 0], img_s[mask == 0])


def test_textures_draws_only_the_given_kinds(monkeypatch):

    def no_checker(*args):
        raise AssertionError('checker drawn')

    monkeypatch.setattr(SyntheticShapesDataset, '_checker',
                        staticmethod(no_checker))
    stripes = _ds(textures=('stripe', ))
    for i in range(32):
        stripes.render(i)
    # with both textures, 32 objects all drawing stripes has odds 2**-32
    with pytest.raises(AssertionError, match='checker drawn'):
        for i in range(32):
            _ds().render(i)


def test_coverage_sets_object_size_and_nothing_else():
    small = _ds(num_samples=64, coverage=(0.08, 0.2))
    large = _ds(num_samples=64, coverage=(0.3, 0.5))
    default = _ds(num_samples=64)
    small_cov, large_cov = [], []
    for i in range(64):
        img_d, mask_d = default.render(i)
        img_s, mask_s = small.render(i)
        small_cov.append((mask_s > 0).mean())
        large_cov.append((large.render(i)[1] > 0).mean())
        # the same draws: the background, where no object covers it in
        # either image, is the same
        both_bg = (mask_d == 0) & (mask_s == 0)
        assert np.array_equal(img_d[both_bg], img_s[both_bg])
    # the fit-in-the-image cap and pixel rounding move single images a
    # little; the means sit inside the asked ranges
    assert 0.08 < np.mean(small_cov) < 0.2
    assert 0.3 < np.mean(large_cov) < 0.5
    assert max(small_cov) < min(large_cov) + 0.1
