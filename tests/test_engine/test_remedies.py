# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Collapse remedies (not in the paper): usage-balance loss, tau schedule,
dead-region restarts, separate learning rate for the mask generator."""
import math
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS

from mmfactdiff.engine.hooks import DeadRegionRestartHook, TauScheduleHook
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


def test_dead_region_restart_splits_the_dominant_region():
    model = MODELS.build(tiny_segmentor(num_regions=3))
    optim = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3)))
    model.loss(torch.randn(2, 3, 16, 16), [None, None])['loss_denoise'] \
        .backward()
    optim.step()  # creates Adam moments
    hook = DeadRegionRestartHook(min_usage=0.05, patience=2)
    hub = MessageHub.get_instance('restart')
    w = model.decode_head.conv_seg.weight
    for it in range(3):
        model.mask_stats = dict(usage=torch.tensor([0.97, 0.01, 0.02]))
        runner = SimpleNamespace(model=model, iter=it, message_hub=hub,
                                 optim_wrapper=optim)
        hook.after_train_iter(runner, it)
    assert hook.restarts == 2  # regions 1 and 2 were dead
    # restarted rows are near copies of the donor's row, not equal to it
    assert torch.allclose(w[1], w[0], atol=0.5 * w[0].std().item())
    assert not torch.equal(w[1], w[0])
    state = optim.optimizer.state[w]
    assert state['exp_avg'][1].abs().sum() == 0


def test_separate_mask_generator_learning_rate_via_paramwise_cfg():
    """A separate lr is mmengine's paramwise_cfg, no code of ours."""
    model = MODELS.build(tiny_segmentor())
    optim = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4),
        paramwise_cfg=dict(custom_keys={'decode_head': dict(lr_mult=10.)})))
    lrs = {g['lr'] for g in optim.optimizer.param_groups}
    assert lrs == {1e-4, 1e-3}
