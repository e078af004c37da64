# Copyright (c) mmfactdiff contributors. All rights reserved.
"""RegionRestartHook: arming, restarts of the output conv, resume."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from mmseg.registry import MODELS

from projects.emergence_study.emergence_study import RegionRestartHook
from tiny_configs import scalar_records, tiny_config
from tiny_models import tiny_segmentor


class _ScriptedRestart(RegionRestartHook):
    """The hook with its read-out replaced by a script of shares."""

    def __init__(self, shares, **kwargs):
        super().__init__(**kwargs)
        self.shares = list(shares)

    def _min_share(self, runner):
        return self.shares.pop(0)


def _fake_runner():
    model = MODELS.build(
        tiny_segmentor(num_regions=2, decode_head=dict(init_cfg=None)))
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    return SimpleNamespace(
        model=model,
        optim_wrapper=optim,
        iter=0,
        max_iters=100,
        message_hub=MessageHub.get_instance('region-restart-test'))


def _step(runner):
    """Stand-in for a training step: every parameter and moment moves."""
    for p in runner.model.parameters():
        p.grad = torch.ones_like(p)
    runner.optim_wrapper.step()
    runner.optim_wrapper.zero_grad()


def _check(hook, runner, it):
    runner.iter = it - 1
    hook.after_train_iter(runner, 0)


def _conv(runner):
    return runner.model.decode_head.conv_seg


def _snapshot(runner):
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


def _changed(before, runner):
    after = runner.model.state_dict()
    return {k for k, v in before.items() if not torch.equal(v, after[k])}


def test_restarts_only_the_output_conv_after_patience():
    runner = _fake_runner()
    hook = _ScriptedRestart([0.0, 0.3, 0.01, 0.02, 0.0, 0.0],
                            interval=10,
                            patience=2)
    _step(runner)
    _check(hook, runner, 10)  # not emerged yet: a low share is no collapse
    _check(hook, runner, 20)  # healthy: armed
    _step(runner)
    before = _snapshot(runner)
    _check(hook, runner, 30)  # one collapsed check: patience not used up
    assert not _changed(before, runner)
    _check(hook, runner, 40)  # second one: the output conv starts afresh
    assert _changed(before, runner) == {
        'decode_head.conv_seg.weight', 'decode_head.conv_seg.bias'
    }
    state = runner.optim_wrapper.optimizer.state
    assert all(p not in state for p in _conv(runner).parameters())
    assert runner.model.decode_head.trunk.parameters().__next__() in state
    assert hook._state['restarts'] == 1
    assert runner.message_hub.get_scalar(
        'train/restart/restarts').current() == 1
    # disarmed until the regions split the images again
    _check(hook, runner, 50)
    _check(hook, runner, 60)
    assert hook._state['restarts'] == 1


def test_limit_only_warns_and_state_travels_in_checkpoints():
    runner = _fake_runner()
    hook = _ScriptedRestart([0.3, 0.0],
                            interval=10,
                            patience=1,
                            max_restarts=0)
    _check(hook, runner, 10)
    before = _snapshot(runner)
    _check(hook, runner, 20)
    assert not _changed(before, runner)

    hook = _ScriptedRestart([0.3], interval=10)
    _check(hook, runner, 10)
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    resumed = _ScriptedRestart([0.0, 0.0], interval=10, patience=2)
    resumed.after_load_checkpoint(runner, checkpoint)
    weight = _conv(runner).weight.clone()
    _check(resumed, runner, 20)
    _check(resumed, runner, 30)  # armed by the saved state: restarts
    assert not torch.equal(weight, _conv(runner).weight)


def test_arm_after_restarts_runs_that_never_split_their_images():
    runner = _fake_runner()
    hook = _ScriptedRestart([0.0] * 8, interval=10, patience=2, arm_after=20)
    weight = _conv(runner).weight.clone()
    _check(hook, runner, 10)
    _check(hook, runner, 20)  # not past arm_after yet
    assert not hook._state['armed']
    _check(hook, runner, 30)  # armed, first collapsed check
    assert torch.equal(weight, _conv(runner).weight)
    _check(hook, runner, 40)  # restart
    assert not torch.equal(weight, _conv(runner).weight)
    assert hook._state['last_restart'] == 40
    for it in (50, 60):  # the fresh layer gets arm_after iterations
        _check(hook, runner, it)
        assert not hook._state['armed']
    _check(hook, runner, 70)
    _check(hook, runner, 80)
    assert hook._state['restarts'] == 2


@pytest.mark.parametrize('bad', [
    dict(interval=0),
    dict(patience=True),
    dict(min_share=0.),
    dict(max_restarts=-1),
    dict(arm_after=-1),
])
def test_bad_arguments_name_the_field(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        RegionRestartHook(**bad)


def test_a_head_with_its_own_init_is_refused(tmp_path):
    cfg = tiny_config(str(tmp_path), max_iters=2)
    cfg.model.decode_head.init_cfg = dict(type='Normal', std=0.01)
    cfg.custom_hooks.append(dict(type='RegionRestartHook'))
    with pytest.raises(ValueError, match='init_cfg=None'):
        Runner.from_cfg(cfg).train()


def test_a_run_without_restart_is_the_run_without_the_hook(tmp_path):
    """The checks read fixed images and restore every random state."""
    plain = tiny_config(str(tmp_path / 'plain'), max_iters=6)
    plain.model.decode_head.init_cfg = None
    Runner.from_cfg(plain).train()
    hooked = tiny_config(str(tmp_path / 'hooked'), max_iters=6)
    hooked.model.decode_head.init_cfg = None
    hooked.custom_hooks.append(
        dict(
            type='RegionRestartHook', interval=2, min_share=1e-9,
            num_images=4))
    Runner.from_cfg(hooked).train()

    def losses(name):
        return [r for r in scalar_records(str(tmp_path / name)) if 'loss' in r]

    records = losses('hooked')
    assert [r['loss'] for r in records] == [r['loss'] for r in losses('plain')]
    shares = [
        r['restart/min_share'] for r in records if 'restart/min_share' in r
    ]
    assert shares and all(0. <= s <= 0.5 for s in shares)
