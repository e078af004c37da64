# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Killed with SIGKILL and resumed: ``tools/train.py`` runs in a subprocess
that kills itself (``fault_injection.SigkillHook``) during a validation,
inside a training step and halfway through writing a checkpoint; after each
kill every checkpoint on disk loads, ``last_checkpoint`` names a complete
one, and ``--resume`` continues. The losses of the chain equal those of an
uninterrupted run at every iteration, and so do the final weights.
"""
import glob
import os
import os.path as osp
import signal
import subprocess
import sys

import pytest
import torch
from conftest import REPO_ROOT

from mmfactdiff.engine.hooks import AtomicCheckpointHook
from mmfactdiff.utils import load_checkpoint_file
from tiny_configs import dump, scalar_records, tiny_config

pytestmark = pytest.mark.slow

MAX_ITERS = 6
# (point, iteration): the validation after iteration 2, the update of
# iteration 4, the writing of iter_6.pth
KILLS = (('val', 2), ('step', 4), ('save', 6))


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('sigkill'))
    cfg = tiny_config(
        osp.join(root, 'unused'),
        max_iters=MAX_ITERS,
        **{
            'train_dataloader.batch_size': 4,
            'default_hooks.checkpoint.interval': 2,
            'train_cfg.val_interval': 2,
            'log_processor.window_size': 1,
        })
    cfg.pop('work_dir')
    cfg.custom_imports.imports.append('fault_injection')
    cfg.custom_hooks = [
        h for h in cfg.custom_hooks if h['type'] != 'SampleVisualizationHook'
    ] + [dict(type='SigkillHook')]
    config = dump(cfg, osp.join(root, 'config.py'))
    env = dict(
        os.environ,
        PYTHONPATH=osp.join(REPO_ROOT, 'tests') + os.pathsep + REPO_ROOT,
        OMP_NUM_THREADS='1',
        MKL_NUM_THREADS='1')
    env.pop('MMFACTDIFF_TEST_KILL', None)
    return root, config, env


def _train(setup, work_dir, kill=None, resume=False):
    _, config, env = setup
    if kill:
        env = dict(env, MMFACTDIFF_TEST_KILL=f'{kill[0]}:{kill[1]}')
    cmd = [sys.executable, 'tools/train.py', config, '--work-dir', work_dir]
    if resume:
        cmd.append('--resume')
    proc = subprocess.run(
        cmd,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


def _losses(work_dir):
    out = {}
    for rec in scalar_records(work_dir):
        if 'loss' in rec:
            out.setdefault(rec['step'], set()).add(rec['loss'])
    return out


def _checkpoints_on_disk_are_whole(work_dir):
    """Every iter_*.pth loads; last_checkpoint names one of them."""
    names = sorted(glob.glob(osp.join(work_dir, 'iter_*.pth')))
    for path in names:
        AtomicCheckpointHook.check_file(path)
        load_checkpoint_file(path, map_location='cpu')
    last = osp.join(work_dir, 'last_checkpoint')
    if osp.exists(last):
        assert open(last).read() in names
    return names


def test_sigkill_at_three_points_then_resume_matches_a_straight_run(setup):
    root = setup[0]
    straight = osp.join(root, 'straight')
    rc, log = _train(setup, straight)
    assert rc == 0, log[-3000:]

    work_dir = osp.join(root, 'killed')
    survived = 0
    for i, kill in enumerate(KILLS):
        rc, log = _train(setup, work_dir, kill=kill, resume=i > 0)
        assert rc == -signal.SIGKILL, (kill, log[-3000:])
        names = _checkpoints_on_disk_are_whole(work_dir)
        assert names, kill
        survived += 1
    # the checkpoint being written when the last kill came is not one
    assert not osp.exists(osp.join(work_dir, f'iter_{MAX_ITERS}.pth'))
    rc, log = _train(setup, work_dir, resume=True)
    assert rc == 0, log[-3000:]
    assert survived == len(KILLS)
    _checkpoints_on_disk_are_whole(work_dir)

    expected, got = _losses(straight), _losses(work_dir)
    assert sorted(expected) == list(range(1, MAX_ITERS + 1))
    assert sorted(got) == sorted(expected)
    for step, values in got.items():
        assert values == expected[step], step  # one value, the straight one
    a = load_checkpoint_file(
        osp.join(straight, f'iter_{MAX_ITERS}.pth'), map_location='cpu')
    b = load_checkpoint_file(
        osp.join(work_dir, f'iter_{MAX_ITERS}.pth'), map_location='cpu')
    for name, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][name]), name
