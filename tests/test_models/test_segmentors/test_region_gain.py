# Copyright (c) mmfactdiff contributors. All rights reserved.
"""The label-free region gain: the model's own regions against one region,
returned by predict and averaged by RegionGainMetric."""
import pytest
import torch
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmfactdiff.evaluation.metrics import RegionGainMetric
from mmfactdiff.models.utils import region_gain_losses
from tiny_models import leave_zero_init, tiny_mask_head, tiny_segmentor


def _model(**kwargs):
    model = leave_zero_init(
        MODELS.build(tiny_segmentor(num_regions=2, **kwargs)))
    return model.eval()


def _samples(n):
    meta = dict(img_shape=(16, 16), ori_shape=(16, 16), pad_shape=(16, 16))
    return [SegDataSample(metainfo=meta) for _ in range(n)]


def _collapse(model, region):
    """Make the mask generator put every pixel in ``region``."""
    conv = model.decode_head.conv_seg
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        conv.bias[region] = 10.


def test_losses_compare_own_regions_with_one_region():
    model = _model()
    x0 = torch.randn(3, 3, 16, 16)
    noise = torch.randn(3, 16, 16)
    losses = region_gain_losses(model, x0, noise, 10)
    assert losses.shape == (3, 2) and (losses > 0).all()
    # a model that splits the images predicts otherwise than one region
    assert not torch.allclose(losses[:, 0], losses[:, 1])
    # one region, whichever it is, is the one-region pass: no gain
    for region in (0, 1):
        _collapse(model, region)
        losses = region_gain_losses(model, x0, noise, 10)
        torch.testing.assert_close(losses[:, 0], losses[:, 1])


def test_predict_returns_the_losses_only_when_asked():
    x = torch.randn(2, 3, 16, 16)
    plain = _model()
    assert 'region_gain_losses' not in plain.predict(x, _samples(2))[0]
    model = _model(test_cfg=dict(region_gain=True))
    out = model.predict(x, _samples(2))
    pairs = torch.stack([s.region_gain_losses for s in out])
    # the read-out's level and first noise draw
    gen = torch.Generator().manual_seed(0)
    noise = torch.randn(3, 16, 16, generator=gen)
    expected = region_gain_losses(model, x, noise, model.test_cfg.t)
    torch.testing.assert_close(pairs, expected)
    # the segmentation itself is the plain read-out's
    plain.load_state_dict(model.state_dict())
    torch.testing.assert_close(
        out[1].seg_logits.data,
        plain.predict(x, _samples(2))[1].seg_logits.data)


def test_hierarchical_model_is_refused():
    model = MODELS.build(
        tiny_segmentor(num_regions=2, sub_mask_head=tiny_mask_head(2))).eval()
    with pytest.raises(ValueError, match='hierarchical'):
        region_gain_losses(model, torch.randn(1, 3, 16, 16),
                           torch.randn(3, 16, 16), 10)


def test_metric_is_the_relative_loss_reduction():
    metric = RegionGainMetric()
    metric.process({}, [
        dict(region_gain_losses=torch.tensor([2., 1.])),
        dict(region_gain_losses=torch.tensor([2., 2.])),
    ])
    # (4 - 3) / 4
    assert metric.compute_metrics(metric.results) == {'region_gain': 25.0}


def test_metric_names_the_missing_option_and_bad_values():
    metric = RegionGainMetric()
    with pytest.raises(KeyError, match='test_cfg.region_gain=True'):
        metric.process({}, [dict(pred_sem_seg=None)])
    with pytest.raises(ValueError, match='shape'):
        metric.process({}, [dict(region_gain_losses=torch.ones(3))])
    with pytest.raises(ValueError, match='non-finite'):
        metric.compute_metrics([torch.tensor([float('nan'), 1.]).numpy()])
