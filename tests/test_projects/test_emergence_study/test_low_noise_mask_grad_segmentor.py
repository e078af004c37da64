# Copyright (c) mmfactdiff contributors. All rights reserved.
"""LowNoiseMaskGradSegmentor: the study's low-noise mask-gradient remedy."""
import copy

import pytest
import torch
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from projects.emergence_study.emergence_study import \
    LowNoiseMaskGradSegmentor  # noqa: F401 (registers it)
from tiny_models import leave_zero_init, tiny_segmentor


def _samples(n=2, size=16):
    meta = dict(
        img_shape=(size, size), ori_shape=(size, size), pad_shape=(size, size))
    return [SegDataSample(metainfo=meta) for _ in range(n)]


def _model(**kwargs):
    return leave_zero_init(
        MODELS.build(
            tiny_segmentor(type='LowNoiseMaskGradSegmentor', **kwargs)))


# the tiny model's scheduler has T = 100
@pytest.mark.parametrize('timesteps,learns', [((50, 90), False),
                                              ((4, 90), True)])
def test_mask_grad_max_t_keeps_high_t_out_of_the_mask_generator(
        timesteps, learns):
    model = _model(mask_grad_max_t=10)
    plain = copy.deepcopy(model)
    plain.mask_grad_max_t = 99  # every t of the tiny scheduler
    t = torch.tensor(timesteps)
    x = torch.randn(2, 3, 16, 16)
    losses = []
    for m in (model, plain):
        m.train()
        m.scheduler.sample_timesteps = lambda n, device: t
        torch.manual_seed(0)
        loss = m.loss(x, _samples())['loss_denoise']
        loss.backward()
        losses.append(loss.detach())
    # the forward pass is the paper's; only the gradient is gated
    assert torch.equal(losses[0], losses[1])
    grad = model.decode_head.conv_seg.weight.grad
    assert (grad is not None and grad.abs().sum() > 0) == learns
    assert plain.decode_head.conv_seg.weight.grad.abs().sum() > 0
    # the decoder learns at every t
    assert model.decoder.parameters().__next__().grad is not None


def test_mask_grad_max_t_is_checked_at_build_time():
    with pytest.raises(ValueError, match='mask_grad_max_t must be an int'):
        MODELS.build(
            tiny_segmentor(
                type='LowNoiseMaskGradSegmentor', mask_grad_max_t=-1))
    with pytest.raises(ValueError, match='leaves no timestep'):
        MODELS.build(
            tiny_segmentor(
                type='LowNoiseMaskGradSegmentor', mask_grad_max_t=100))
