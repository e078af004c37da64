# Copyright (c) mmfactdiff contributors. All rights reserved.
import math

import pytest
import torch
from mmseg.registry import MODELS

import projects.emergence_study.emergence_study  # noqa: F401
from tiny_models import tiny_segmentor


def _probs(share0, size=8):
    """(B, 2, size, size) probabilities: region 0 uniform at share0."""
    p0 = torch.tensor(share0, dtype=torch.float32).view(-1, 1, 1, 1)
    p0 = p0.expand(-1, 1, size, size)
    return torch.cat([p0, 1. - p0], dim=1)


def test_zero_while_every_region_is_above_the_floor():
    loss = MODELS.build(
        dict(type='RegionUsageFloorLoss', floor=0.1, loss_weight=1.))
    probs = _probs([0.1, 0.5, 0.9]).requires_grad_()
    assert loss(probs, torch.tensor([0, 10, 99])) == 0.


def test_log_hinge_on_low_noise_images_only():
    loss = MODELS.build(
        dict(
            type='RegionUsageFloorLoss', floor=0.1, max_t=100, loss_weight=2.))
    share = 1e-3
    probs = _probs([share, share]).requires_grad_()
    # the second image is heavily noised: it does not count
    value = loss(probs, torch.tensor([5, 500]))
    expected = 2. * (math.log(0.1) - math.log(share)) / 2  # mean over K
    assert value.item() == pytest.approx(expected, rel=1e-5)
    assert loss(probs, torch.tensor([500, 900])) == 0.


def test_gradient_survives_a_saturated_softmax():
    loss = MODELS.build(dict(type='RegionUsageFloorLoss', loss_weight=1.))
    # a collapsed generator: logit gap 12, region 1 has p ~ 6e-6
    logits = torch.zeros(1, 2, 4, 4)
    logits[:, 0] = 12.
    logits.requires_grad_()
    loss(logits.softmax(1), torch.tensor([10])).backward()
    g = logits.grad
    # pushes the unused region up and the used one down, everywhere, with
    # a gradient of order 1/pixels, not of order p
    assert (g[:, 1] < -1e-3).all() and (g[:, 0] > 1e-3).all()


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match='floor'):
        MODELS.build(dict(type='RegionUsageFloorLoss', floor=0.))
    with pytest.raises(ValueError, match='max_t'):
        MODELS.build(dict(type='RegionUsageFloorLoss', max_t=0))
    with pytest.raises(ValueError, match='loss_name'):
        MODELS.build(dict(type='RegionUsageFloorLoss', loss_name='floor'))
    loss = MODELS.build(dict(type='RegionUsageFloorLoss', floor=0.4))
    with pytest.raises(ValueError, match='floor <= 1/K'):
        loss(torch.full((1, 3, 2, 2), 1 / 3), torch.tensor([0]))
    with pytest.raises(ValueError, match='expected probs'):
        loss(torch.full((1, 2, 2, 2), .5), torch.tensor([0, 1]))


def test_segmentor_adds_the_term_to_its_losses():
    model = MODELS.build(
        tiny_segmentor(
            loss_regions=dict(
                type='RegionUsageFloorLoss',
                floor=0.3,
                max_t=1000,
                loss_weight=1.)))
    losses = model.loss(torch.randn(2, 3, 16, 16), None)
    assert 'loss_usage_floor' in losses
    loss, log_vars = model.parse_losses(losses)
    assert torch.isclose(loss,
                         losses['loss_denoise'] + losses['loss_usage_floor'])
    # without the option, no such term
    assert 'loss_usage_floor' not in MODELS.build(tiny_segmentor()).loss(
        torch.randn(2, 3, 16, 16), None)
