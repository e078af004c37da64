# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Collapse remedies (not in the paper): usage-balance loss, tau
schedule."""
import math
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub
from mmseg.registry import MODELS

from mmfactdiff.engine.hooks import TauScheduleHook
from tiny_models import leave_zero_init, tiny_segmentor


def test_usage_balance_loss_is_kl_to_uniform_and_pushes_usage():
    model = leave_zero_init(MODELS.build(tiny_segmentor(
        num_regions=3, train_cfg=dict(usage_balance_weight=2.0))))
    # make region 0 dominate everywhere
    with torch.no_grad():
        model.decode_head.conv_seg.bias.copy_(torch.tensor([4., 0., 0.]))
    x = torch.randn(2, 3, 16, 16)
    losses = model.loss(x, [None, None])
    assert set(losses) == {'loss_denoise', 'loss_usage'}
    # recompute from the recorded usage: w * (log K - H(usage))
    u = model.mask_stats['usage'].clamp_min(1e-8)
    expected = 2.0 * (math.log(3) + (u * u.log()).sum())
    assert torch.allclose(losses['loss_usage'], expected, atol=1e-4)
    losses['loss_usage'].backward()
    # gradient descent on the bias lowers region 0's dominance
    grad = model.decode_head.conv_seg.bias.grad
    assert grad[0] > 0 and grad[1] < 0 and grad[2] < 0
    off = MODELS.build(tiny_segmentor(num_regions=3))
    assert 'loss_usage' not in off.loss(x, [None, None])


def test_tau_schedule():
    hook = TauScheduleHook(start=1.0, end=0.25, end_iter=100, mode='exp')
    assert hook.tau_at(0, 1000) == pytest.approx(1.0)
    assert hook.tau_at(50, 1000) == pytest.approx(0.5)
    assert hook.tau_at(500, 1000) == pytest.approx(0.25)
    lin = TauScheduleHook(start=1.0, end=0.5)
    assert lin.tau_at(500, 1000) == pytest.approx(0.75)  # end = max_iters
    model = MODELS.build(tiny_segmentor())
    runner = SimpleNamespace(model=model, iter=500, max_iters=1000,
                             message_hub=MessageHub.get_instance('tau'))
    lin.before_train_iter(runner, 0)
    assert model.decode_head.tau == pytest.approx(0.75)
    with pytest.raises(ValueError, match='mode'):
        TauScheduleHook(mode='cosine')
