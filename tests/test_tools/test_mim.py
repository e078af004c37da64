# Copyright (c) mmfactdiff contributors. All rights reserved.
"""``mim train`` and ``mim test`` on an installed mmfactdiff.

setup.py promises openmim's layout (configs/ and tools/ under
``mmfactdiff/.mim``); this installs the package (not editable) into a
temporary directory, then runs openmim's commands on the tiny main config
as a user would, each in its own process.
"""
import importlib.util
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

from tiny_configs import dump, tiny_config

# openmim is part of the test environment (tools/setup_env.sh); it is not
# imported here: its pip internals clash with modules pytest has loaded
assert importlib.util.find_spec('mim') is not None, \
    'openmim is missing: run bash tools/setup_env.sh'


def _run(args, env, cwd):
    proc = subprocess.run([sys.executable, *args],
                          env=env,
                          cwd=cwd,
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """mmfactdiff installed into a directory of its own (a regular install,
    with the .mim layout setup.py builds), first on the path."""
    # pip builds in the source tree (build/, mmfactdiff/.mim copies):
    # build a copy of the working tree, not the checkout itself
    source = str(tmp_path_factory.mktemp('source') / 'mmfactdiff')
    shutil.copytree(
        REPO_ROOT,
        source,
        ignore=shutil.ignore_patterns('.git', '.venv', 'work_dirs', 'data',
                                      'build', '.mim', '*.egg-info',
                                      '__pycache__', '.pytest_cache'))
    site = str(tmp_path_factory.mktemp('site'))
    _run([
        '-m', 'pip', 'install', '-q', '--no-deps', '--no-build-isolation',
        '--target', site, source
    ],
         env=dict(os.environ),
         cwd=source)
    assert osp.isfile(
        osp.join(site, 'mmfactdiff', '.mim', 'tools', 'train.py'))
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join(
        [site] + [p for p in [os.environ.get('PYTHONPATH')] if p])
    return site, env


def test_mim_train_then_test(installed, tmp_path):
    site, env = installed
    work_dir = str(tmp_path / 'work')
    config = dump(
        tiny_config(work_dir, max_iters=2), str(tmp_path / 'tiny.py'))
    # run outside the checkout, so that only the installed copy is imported
    out = _run(
        ['-m', 'mim', 'train', 'mmfactdiff', config, '--work-dir', work_dir],
        env, str(tmp_path))
    # openmim ran the installed package's own tools/train.py
    train_py = osp.join(site, 'mmfactdiff', '.mim', 'tools', 'train.py')
    assert f'Training command is {sys.executable} {train_py}' in out
    ckpt = osp.join(work_dir, 'iter_2.pth')
    assert osp.isfile(ckpt)
    out = _run([
        '-m', 'mim', 'test', 'mmfactdiff', config, '--checkpoint', ckpt,
        '--work-dir',
        str(tmp_path / 'test')
    ], env, str(tmp_path))
    assert 'Testing finished successfully' in out
    assert 'IoU:' in out
