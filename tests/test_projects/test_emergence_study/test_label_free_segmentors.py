# Copyright (c) mmfactdiff contributors. All rights reserved.
"""The label-free baselines of projects/emergence_study as mmseg models."""
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmfactdiff.models.utils import per_image_kmeans
from projects.emergence_study.emergence_study import (ColourKMeansSegmentor,
                                                      PriorMaskSegmentor)

PREPROCESSOR = dict(
    type='SegDataPreProcessor',
    mean=[127.5] * 3,
    std=[127.5] * 3,
    bgr_to_rgb=True)


def _samples(n, h, w, ori=None):
    out = []
    for _ in range(n):
        s = SegDataSample()
        s.set_metainfo(dict(img_shape=(h, w), ori_shape=ori or (h, w)))
        s.gt_sem_seg = PixelData(data=torch.zeros(1, *(ori or (h, w))))
        out.append(s)
    return out


def test_colour_kmeans_splits_two_colours_exactly():
    img = torch.full((1, 3, 8, 8), -0.5)
    img[..., 2:5, 3:7] = 0.7
    img = img + 0.01 * torch.randn(img.shape)
    ids = per_image_kmeans(img, 2)
    obj = torch.zeros(8, 8, dtype=torch.bool)
    obj[2:5, 3:7] = True
    assert (ids[0].bool() == obj).all() or (ids[0].bool() == ~obj).all()
    model = MODELS.build(
        dict(type='ColourKMeansSegmentor', data_preprocessor=PREPROCESSOR))
    assert isinstance(model, ColourKMeansSegmentor)
    pred = model.predict(img, _samples(1, 8, 8, ori=(16, 16)))[0]
    # predictions come back at the original size, as a model's do
    assert pred.pred_sem_seg.data.shape == (1, 16, 16)
    with pytest.raises(ValueError, match='k must be'):
        per_image_kmeans(img, 0)


def test_prior_masks():
    model = PriorMaskSegmentor(shape='all')
    ids = model.region_ids(torch.zeros(2, 3, 4, 6))
    assert ids.shape == (2, 4, 6) and (ids == 1).all()
    ellipse = PriorMaskSegmentor(shape='centred_ellipse')
    ids = ellipse.region_ids(torch.zeros(1, 3, 64, 96))[0].float()
    # axes half the width and height: pi / 16 of the image
    assert abs(ids.mean().item() - np.pi / 16) < 0.01
    assert ids[32, 48] == 1 and ids[0, 0] == 0
    with pytest.raises(ValueError, match='shape'):
        PriorMaskSegmentor(shape='square')
    with pytest.raises(RuntimeError, match='never trained'):
        ellipse.loss(None, None)
