# Copyright (c) mmfactdiff contributors. All rights reserved.
"""CollapseGuardHook: the label-free collapse signal, rollbacks, resume."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from mmseg.registry import MODELS

from projects.emergence_study.emergence_study import (CollapseGuardHook,
                                                      smallest_region_share)
from tiny_configs import scalar_records, tiny_config
from tiny_models import tiny_segmentor


def test_smallest_region_share():
    probs = torch.zeros(2, 2, 4, 4)
    probs[0, 0] = 1.  # image 0: every pixel in region 0
    probs[1, 0, :1] = 1.  # image 1: one row of four in region 0
    probs[1, 1, 1:] = 1.
    assert smallest_region_share(probs).tolist() == [0., 0.25]


class _ScriptedGuard(CollapseGuardHook):
    """The guard with its read-out replaced by a script of shares."""

    def __init__(self, shares, **kwargs):
        super().__init__(**kwargs)
        self.shares = list(shares)

    def _min_share(self, runner):
        return self.shares.pop(0)


def _fake_runner(max_iters=100):
    model = MODELS.build(tiny_segmentor(num_regions=2))
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    return SimpleNamespace(
        model=model,
        optim_wrapper=optim,
        iter=0,
        max_iters=max_iters,
        message_hub=MessageHub.get_instance('collapse-guard-test'))


def _perturb(runner):
    """Stand-in for a training step: change weights and optimizer state."""
    p = next(runner.model.parameters())
    p.grad = torch.ones_like(p)
    runner.optim_wrapper.step()
    runner.optim_wrapper.zero_grad()


def _check(hook, runner, it):
    runner.iter = it - 1
    hook.after_train_iter(runner, 0)


def _weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def _same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def test_rolls_back_to_last_healthy_state_after_patience():
    runner = _fake_runner()
    hook = _ScriptedGuard([0.0, 0.3, 0.01, 0.02],
                          interval=10,
                          patience=2,
                          min_share=0.1)
    _check(hook, runner, 10)  # not emerged yet: nothing to keep
    assert hook._state['snapshots'] == []
    _perturb(runner)
    _check(hook, runner, 20)  # healthy: kept
    healthy = _weights(runner.model)
    runner.optim_wrapper.optimizer.param_groups[0]['lr'] = 5e-4  # scheduled
    healthy_steps = int(runner.optim_wrapper.state_dict()['state'][0]['step'])
    _perturb(runner)
    _check(hook, runner, 30)  # one collapsed check: patience not used up
    assert not _same(healthy, runner.model.state_dict())
    _perturb(runner)
    _check(hook, runner, 40)  # second one: back to iteration 20
    assert _same(healthy, runner.model.state_dict())
    state = runner.optim_wrapper.state_dict()['state'][0]
    assert int(state['step']) == healthy_steps == 1
    # the schedule's learning rate (not the one saved at iteration 20),
    # halved by the rollback
    assert runner.optim_wrapper.optimizer.param_groups[0]['lr'] == 2.5e-4
    assert hook._state['rollbacks'] == 1
    assert runner.message_hub.get_scalar(
        'train/guard/rollbacks').current() == 1


def test_restores_at_once_at_the_last_iteration_and_respects_the_limit():
    runner = _fake_runner(max_iters=35)
    hook = _ScriptedGuard([0.3, 0.0], interval=10, patience=5, max_rollbacks=0)
    _check(hook, runner, 10)
    healthy = _weights(runner.model)
    _perturb(runner)
    _check(hook, runner, 35)  # last iteration: no patience, no limit
    assert _same(healthy, runner.model.state_dict())

    runner = _fake_runner()
    hook = _ScriptedGuard([0.3, 0.0, 0.0],
                          interval=10,
                          patience=1,
                          max_rollbacks=0)
    _check(hook, runner, 10)
    _perturb(runner)
    moved = _weights(runner.model)
    _check(hook, runner, 20)
    assert _same(moved, runner.model.state_dict())  # limit: only warns


def test_a_repeated_collapse_goes_one_copy_further_back():
    runner = _fake_runner()
    hook = _ScriptedGuard([0.3, 0.3, 0.0, 0.0, 0.3],
                          interval=10,
                          patience=1,
                          history=2)
    _check(hook, runner, 10)
    older = _weights(runner.model)
    _perturb(runner)
    _check(hook, runner, 20)
    newer = _weights(runner.model)
    _perturb(runner)
    _check(hook, runner, 30)  # collapsed: back to 20
    assert _same(newer, runner.model.state_dict())
    _perturb(runner)
    _check(hook, runner, 40)  # again, no healthy check between: back to 10
    assert _same(older, runner.model.state_dict())
    assert runner.optim_wrapper.optimizer.param_groups[0]['lr'] == 2.5e-4
    _check(hook, runner, 50)  # healthy again: a new copy
    assert [s[0] for s in hook._state['snapshots']] == [10, 50]


def test_state_travels_in_checkpoints():
    runner = _fake_runner()
    hook = _ScriptedGuard([0.3], interval=10)
    _check(hook, runner, 10)
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    resumed = _ScriptedGuard([0.0, 0.0], interval=10, patience=2)
    resumed.after_load_checkpoint(runner, checkpoint)
    assert [s[0] for s in resumed._state['snapshots']] == [10]
    healthy = _weights(runner.model)
    _perturb(runner)
    _check(resumed, runner, 20)
    _check(resumed, runner, 30)
    assert _same(healthy, runner.model.state_dict())


@pytest.mark.parametrize('bad', [
    dict(interval=0),
    dict(patience=True),
    dict(min_share=1.),
    dict(max_rollbacks=-1),
    dict(history=0),
    dict(lr_factor=0.),
])
def test_bad_arguments_name_the_field(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        CollapseGuardHook(**bad)


def _losses(work_dir):
    return [r for r in scalar_records(work_dir) if 'loss' in r]


def test_a_run_without_rollback_is_the_run_without_the_hook(tmp_path):
    """The checks read fixed images and restore every random state: with a
    threshold no check can miss, the losses are the hook-free run's."""
    plain = tiny_config(str(tmp_path / 'plain'), max_iters=6)
    Runner.from_cfg(plain).train()
    guarded = tiny_config(str(tmp_path / 'guarded'), max_iters=6)
    guarded.custom_hooks.append(
        dict(
            type='CollapseGuardHook', interval=2, min_share=1e-9,
            num_images=4))
    Runner.from_cfg(guarded).train()
    records = _losses(str(tmp_path / 'guarded'))
    assert [r['loss'] for r in records
            ] == [r['loss'] for r in _losses(str(tmp_path / 'plain'))]
    shares = [r['guard/min_share'] for r in records if 'guard/min_share' in r]
    assert shares and all(0. <= s <= 0.5 for s in shares)
