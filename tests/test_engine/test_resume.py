# Copyright (c) mmfactdiff contributors. All rights reserved.
"""``--resume`` continues a killed run exactly, and checkpoints are written
atomically.

Every run is the main config shrunk (``tiny_configs``: 8 channels, 32x32,
the dataset's smallest size) with batch 4, 6 iterations, a checkpoint and a
validation every 3 iterations, run in-process with mmengine's ``Runner``.
"""
import glob
import io
import os.path as osp
import sys

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmfactdiff.engine.hooks import AtomicCheckpointHook
from mmfactdiff.utils import load_checkpoint_file
from tiny_configs import scalar_records, tiny_config

MAX_ITERS = 6
CKPT_INTERVAL = 3


class _KillAt(Hook):
    """Raises at the start of iteration ``at + 1``, like a kill."""

    priority = 'LOWEST'

    def __init__(self, at: int) -> None:
        self.at = at

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.at:
            raise KeyboardInterrupt(f'killed before iteration {self.at + 1}')


def _cfg(work_dir, name, **options):
    opts = {
        'train_dataloader.batch_size': 4,
        'default_hooks.checkpoint.interval': CKPT_INTERVAL,
        'train_cfg.val_interval': CKPT_INTERVAL,
        # log every iteration's own loss, not a running mean
        'log_processor.window_size': 1,
        # in-process runners need their own logger, hub and visualizer
        'experiment_name': name,
        'visualizer.name': name,
    }
    opts.update(options)
    return tiny_config(work_dir, max_iters=MAX_ITERS, **opts)


def _train(cfg, kill_at=None):
    runner = Runner.from_cfg(cfg)
    if kill_at is not None:
        runner.register_hook(_KillAt(kill_at))
        with pytest.raises(KeyboardInterrupt):
            runner.train()
    else:
        runner.train()
    return runner


def _losses(work_dir):
    """{step: [loss values logged for it]} from every run in work_dir."""
    out = {}
    for record in scalar_records(work_dir):
        if 'loss' in record:
            out.setdefault(record['step'], []).append(
                (record['loss'], record['loss_denoise']))
    return out


def _load(path):
    return load_checkpoint_file(path, map_location='cpu')


@pytest.fixture(scope='module')
def straight(tmp_path_factory):
    """The uninterrupted reference run."""
    work_dir = str(tmp_path_factory.mktemp('straight'))
    _train(_cfg(work_dir, 'resume-straight'))
    return work_dir


def test_killed_run_resumes_bit_exactly(straight, tmp_path):
    work_dir = str(tmp_path)
    # killed during iteration 5; the last checkpoint is iter_3.pth (and the
    # run validated after saving it)
    _train(_cfg(work_dir, 'resume-killed'), kill_at=4)
    assert open(osp.join(work_dir,
                         'last_checkpoint')).read().endswith('iter_3.pth')
    assert not osp.exists(osp.join(work_dir, f'iter_{MAX_ITERS}.pth'))
    cfg = _cfg(work_dir, 'resume-resumed')
    cfg.resume = True  # what tools/train.py --resume sets
    _train(cfg)

    # the same loss at every iteration: 1-4 from the killed run, 4-6 after
    # resuming (iteration 4 is trained twice)
    expected = _losses(straight)
    got = _losses(work_dir)
    assert sorted(expected) == list(range(1, MAX_ITERS + 1))
    assert sorted(got) == sorted(expected)
    assert len(got[4]) == 2
    for step, values in got.items():
        assert all(v == expected[step][0] for v in values), step

    # the same final weights, EMA weights and optimizer state, to the bit
    a = _load(osp.join(straight, f'iter_{MAX_ITERS}.pth'))
    b = _load(osp.join(work_dir, f'iter_{MAX_ITERS}.pth'))
    for key in ('state_dict', 'ema_state_dict'):
        assert a[key].keys() == b[key].keys()
        for name in a[key]:
            assert torch.equal(a[key][name], b[key][name]), (key, name)
    for pid, state in a['optimizer']['state'].items():
        for name, value in state.items():
            assert torch.equal(value, b['optimizer']['state'][pid][name])
    # what RNGStateHook adds
    assert b['rng_states']['world_size'] == 1
    assert set(b['rng_states']['states'][0]) >= {'python', 'numpy', 'torch'}


@pytest.mark.parametrize('damage', ['truncated', 'bit-flip', 'empty'])
def test_damaged_checkpoint_error_names_the_file(straight, tmp_path, damage):
    work_dir = str(tmp_path)
    path = osp.join(work_dir, 'iter_3.pth')
    data = open(osp.join(straight, 'iter_3.pth'), 'rb').read()
    if damage == 'truncated':
        data = data[:len(data) // 2]
    elif damage == 'bit-flip':
        data = bytearray(data)
        data[len(data) // 2] ^= 0xFF
        data = bytes(data)
    else:
        data = b''
    with open(path, 'wb') as f:
        f.write(data)
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(path)
    cfg = _cfg(work_dir, f'resume-damaged-{damage}')
    cfg.resume = True
    runner = Runner.from_cfg(cfg)
    with pytest.raises(RuntimeError) as info:
        runner.train()
    assert path in str(info.value)
    assert runner.iter == 0  # failed before loading or training anything


def test_check_file_accepts_a_complete_checkpoint(straight):
    AtomicCheckpointHook.check_file(osp.join(straight, 'iter_3.pth'))
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        AtomicCheckpointHook.check_file(osp.join(straight, 'nowhere.pth'))


def test_kill_while_saving_leaves_a_resumable_work_dir(tmp_path, monkeypatch):
    """Killed halfway through writing iter_6.pth, with max_keep_ckpts=1
    (where mmengine's CheckpointHook deletes iter_3.pth before writing
    iter_6.pth): last_checkpoint still names the complete iter_3.pth, and
    resuming finishes the run."""
    runner_module = sys.modules['mmengine.runner.runner']
    real_save = runner_module.save_checkpoint
    calls = []

    def save_then_die(checkpoint, filename, **kwargs):
        calls.append(filename)
        if len(calls) == 1:
            return real_save(checkpoint, filename, **kwargs)
        buf = io.BytesIO()
        torch.save(checkpoint, buf)
        with open(filename, 'wb') as f:  # half the bytes, then killed
            f.write(buf.getvalue()[:buf.tell() // 2])
        raise KeyboardInterrupt('killed while saving')

    work_dir = str(tmp_path)
    options = {'default_hooks.checkpoint.max_keep_ckpts': 1}
    monkeypatch.setattr(runner_module, 'save_checkpoint', save_then_die)
    runner = Runner.from_cfg(_cfg(work_dir, 'resume-save-killed', **options))
    with pytest.raises(KeyboardInterrupt):
        runner.train()
    monkeypatch.undo()

    assert len(calls) == 2 and calls[1].endswith('.tmp')
    last = open(osp.join(work_dir, 'last_checkpoint')).read()
    assert last == osp.join(work_dir, 'iter_3.pth')
    AtomicCheckpointHook.check_file(last)
    assert not osp.exists(osp.join(work_dir, 'iter_6.pth'))
    assert osp.exists(osp.join(work_dir, 'iter_6.pth.tmp'))

    cfg = _cfg(work_dir, 'resume-save-resumed', **options)
    cfg.resume = True
    runner = _train(cfg)
    assert runner.iter == MAX_ITERS
    final = osp.join(work_dir, 'iter_6.pth')
    assert open(osp.join(work_dir, 'last_checkpoint')).read() == final
    AtomicCheckpointHook.check_file(final)
    # the outdated checkpoint went only once its successor was complete;
    # the stale temporary file was removed when training restarted
    assert sorted(glob.glob(osp.join(work_dir, '*.pth*'))) == [final]


def test_resumable_fsdp_strategy_passes_torch_2_1_argument_order(monkeypatch):
    """FSDP resume: the optimizer state goes through
    ``FSDP.optim_state_dict_to_load(model, optimizer, state_dict)``."""
    from types import SimpleNamespace

    from mmfactdiff.engine.strategies import resumable_fsdp_strategy as mod
    calls = []

    def to_load(*args):
        calls.append(args)
        return 'resharded'

    monkeypatch.setattr(mod.FSDP, 'optim_state_dict_to_load', to_load)
    strategy = mod.ResumableFSDPStrategy.__new__(mod.ResumableFSDPStrategy)
    loaded = []
    strategy.model = 'model'
    strategy.optim_wrapper = SimpleNamespace(
        optimizer='optimizer', load_state_dict=loaded.append)
    strategy.load_optim_state_dict({'state': {}})
    assert calls == [('model', 'optimizer', {'state': {}})]
    assert loaded == ['resharded']
