# Copyright (c) mmfactdiff contributors. All rights reserved.
import glob
import os.path as osp
from types import SimpleNamespace

import torch
from mmengine.runner import Runner

from mmfactdiff.engine.hooks import MaskUsageHook
from tiny_configs import tiny_config


def _step(hook, usage, spatial_std=0.2, it=0):
    """One training iteration's call with the log variables of
    ``FactorizedDiffusionSegmentor.loss``."""
    outputs = {f'mask/usage_{k}': torch.tensor(u) for k, u in enumerate(usage)}
    outputs.update({
        'loss': torch.tensor(1.),
        'mask/entropy': torch.tensor(.5),
        'mask/spatial_std': torch.tensor(spatial_std)
    })
    hook.after_train_iter(SimpleNamespace(iter=it), it, outputs=outputs)


def _capture_warnings(monkeypatch):
    msgs = []
    import mmfactdiff.engine.hooks.mask_usage_hook as mod
    monkeypatch.setattr(mod, 'print_log', lambda msg, **kw: msgs.append(msg))
    return msgs


def test_mask_usage_hook_logs_and_warns_by_region(monkeypatch):
    msgs = _capture_warnings(monkeypatch)
    hook = MaskUsageHook(min_usage=0.05, patience=3, warn_interval=100)
    for it in range(5):
        _step(hook, [0.98, 0.01, 0.01], it=it)
    out = '\n'.join(msgs)
    assert 'region 1 is collapsing' in out
    assert 'region 2 is collapsing' in out
    assert 'region 0' not in out
    # a model that returns no mask statistics is ignored
    hook.after_train_iter(SimpleNamespace(iter=9), 9, outputs={'loss': 1.})


def test_mask_usage_hook_warns_on_uniform_masks_only_after_patience(
        monkeypatch):
    msgs = _capture_warnings(monkeypatch)
    hook = MaskUsageHook(uniform_std=0.01, patience=10)
    for it in range(5):
        _step(hook, [0.5, 0.5], 0.001, it)
    assert not msgs
    for it in range(5, 12):
        _step(hook, [0.5, 0.5], 0.001, it)
    assert len(msgs) == 1 and 'spatially uniform' in msgs[0]


def test_short_training_lowers_loss_uses_all_regions_and_draws(tmp_path):
    """A short run of the main config (shrunk): the loss falls, every
    region is used, and the sample grid is written."""
    cfg = tiny_config(
        str(tmp_path), max_iters=30, **{'optim_wrapper.optimizer.lr': 2e-3})
    runner = Runner.from_cfg(cfg)
    runner.train()
    scalars = glob.glob(
        osp.join(str(tmp_path), '*', 'vis_data', 'scalars.json'))[0]
    import json
    records = [json.loads(line) for line in open(scalars)]
    losses = [r['loss'] for r in records if 'loss' in r]
    assert len(losses) == 30
    assert sum(losses[-5:]) / 5 < 0.8 * sum(losses[:5]) / 5
    usage = [[r[f'mask/usage_{k}'] for k in range(2)] for r in records
             if 'mask/usage_0' in r]
    assert all(min(u) > 0.02 for u in usage[-5:])
    grids = glob.glob(
        osp.join(
            str(tmp_path), '*', 'vis_data', 'vis_image', 'samples_30.png'))
    assert grids, 'the sample grid was not written'


def test_test_resource_hook_publishes_cost_per_image():
    from mmengine.logging import MessageHub

    from mmfactdiff.engine.hooks import TestResourceHook
    hub = MessageHub.get_instance('test-resource-hook')
    runner = SimpleNamespace(
        message_hub=hub,
        test_dataloader=SimpleNamespace(dataset=list(range(8))))
    hook = TestResourceHook()
    hook.after_test_epoch(runner, {})  # no start: nothing to report
    assert 'test/sec_per_img' not in hub.log_scalars
    hook.before_test_epoch(runner)
    sum(i * i for i in range(200000))  # some work
    hook.after_test_epoch(runner, {})
    per_img = hub.get_scalar('test/sec_per_img').current()
    assert 0 < per_img < 60
    peak = hub.get_scalar('test/peak_rss_GB').current()
    # this process holds torch: more than 10 MB, less than the machine
    assert 0.01 < peak < 1024
