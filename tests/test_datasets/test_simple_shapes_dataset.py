# Copyright (c) mmfactdiff contributors. All rights reserved.
import numpy as np
import pytest
from mmseg.registry import DATASETS

from mmfactdiff.datasets import SimpleShapesDataset


def test_registered_and_deterministic():
    ds = DATASETS.build(
        dict(
            type='SimpleShapesDataset',
            num_samples=8,
            img_size=32,
            seed=3,
            pipeline=[dict(type='PackSegInputs')]))
    assert isinstance(ds, SimpleShapesDataset) and len(ds) == 8
    again = SimpleShapesDataset(num_samples=8, img_size=32, seed=3)
    other = SimpleShapesDataset(num_samples=8, img_size=32, seed=4)
    img, mask = ds.render(5)
    assert img.dtype == np.uint8 and img.shape == (32, 32, 3)
    assert np.array_equal(img, again.render(5)[0])
    assert not np.array_equal(img, other.render(5)[0])
    sample = ds[0]
    assert sample['inputs'].shape == (3, 32, 32)
    assert set(np.unique(sample['data_samples'].gt_sem_seg.data)) <= {0, 1}


def test_one_flat_object_on_a_smooth_gradient():
    ds = SimpleShapesDataset(num_samples=64, img_size=32)
    fractions = []
    for i in range(64):
        img, mask = ds.render(i)
        m = mask.astype(bool)
        fractions.append(m.mean())
        img = img.astype(np.float64) / 255
        bg = img[~m]
        # the background is a linear gradient: a plane in (x, y) fits each
        # channel (up to uint8 rounding and clipping at 0 and 1)
        ys, xs = np.nonzero(~m)
        design = np.stack([xs, ys, np.ones_like(xs)], 1).astype(float)
        inside = ((bg > 0.01) & (bg < 0.99)).all(1)
        if inside.sum() > 20:
            coef, *_ = np.linalg.lstsq(design[inside], bg[inside], rcond=None)
            assert np.abs(design[inside] @ coef - bg[inside]).max() < 0.01
        # the object: a flat colour plus a stripe of amplitude 0.15
        if m.sum() > 10:
            assert (img[m].max(0) - img[m].min(0)).max() <= 0.31
    fractions = np.array(fractions)
    # radius 0.25-0.55 of the half-side, centres within the middle half
    assert 0.03 < fractions.min() and fractions.max() < 0.33
    assert 0.1 < fractions.mean() < 0.2


def test_no_difficulty_options():
    with pytest.raises(TypeError, match='num_kinds'):
        SimpleShapesDataset(num_samples=2, num_kinds=3)
