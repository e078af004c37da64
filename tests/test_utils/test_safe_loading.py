# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Checkpoints load through the package's weights-only loader: mmengine
checkpoints load, anything that would run code is refused before it runs,
and importing the package leaves torch's allow-list alone."""
import os
import pathlib
import subprocess
import sys

import pytest
import torch
from mmengine.runner import Runner, load_checkpoint

from mmfactdiff.apis import init_factdiff_model
from mmfactdiff.utils import (UnsafeCheckpointError, load_checkpoint_file,
                              trust_checkpoints)
from tiny_configs import tiny_config


class _WritesAFile:
    """Unpickling it creates ``path``: stands for any code a pickle runs."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.path), ))


def _evil_checkpoint(tmp_path, model):
    marker = tmp_path / 'code-ran'
    ckpt = tmp_path / 'evil.pth'
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(x=_WritesAFile(str(marker)))), ckpt)
    return ckpt, marker


def test_import_leaves_torch_allow_list_alone():
    # the dependencies first: importing torch.distributed (through
    # mmengine) registers torch's own types
    code = ('import torch, mmcv, mmengine.runner, mmseg.models; '
            's = torch.serialization; before = list(s.get_safe_globals()); '
            'import mmfactdiff; after = list(s.get_safe_globals()); '
            'assert after == before, [t for t in after if t not in before]')
    subprocess.run([sys.executable, '-c', code], check=True)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    work = tmp_path_factory.mktemp('run')
    cfg = tiny_config(str(work), max_iters=2)
    Runner.from_cfg(cfg).train()
    return cfg, work / 'iter_2.pth'


def test_mmengine_checkpoints_load_and_the_scope_closes(trained):
    cfg, ckpt = trained
    before = set(map(id, torch.serialization.get_safe_globals()))
    state = load_checkpoint_file(str(ckpt), 'cpu')
    assert 'message_hub' in state and 'state_dict' in state
    # the allow-list held only while loading
    assert set(map(id, torch.serialization.get_safe_globals())) == before
    assert getattr not in torch.serialization.get_safe_globals()
    model = init_factdiff_model(cfg, str(ckpt), weights='raw', strict=True)
    assert model is not None


def test_code_in_a_checkpoint_is_refused_before_it_runs(trained, tmp_path):
    cfg, _ = trained
    model = init_factdiff_model(cfg)
    evil, marker = _evil_checkpoint(tmp_path, model)
    with pytest.raises(UnsafeCheckpointError, match='evil.pth'):
        load_checkpoint_file(str(evil))
    # every entry point: mmengine's loader (load_from / resume / test.py /
    # init_model) and the package's API
    with pytest.raises(UnsafeCheckpointError, match='--trust-checkpoint'):
        load_checkpoint(model, str(evil))
    with pytest.raises(UnsafeCheckpointError):
        init_factdiff_model(cfg, str(evil))
    assert not marker.exists()
    # the explicit opt-in loads full pickles (here: harmless code runs)
    with trust_checkpoints():
        load_checkpoint_file(str(evil))
    assert marker.exists()
    assert os.environ.get('MMFACTDIFF_TRUST_CHECKPOINTS') is None


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_checkpoint_file(str(tmp_path / 'nope.pth'))
