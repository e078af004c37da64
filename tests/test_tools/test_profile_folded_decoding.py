# Copyright (c) mmfactdiff contributors. All rights reserved.
"""tools/analysis_tools/profile_folded_decoding.py prints both tables."""
import os.path as osp
import subprocess
import sys

from conftest import REPO_ROOT


def test_profiles_folded_and_looped_decoding():
    tool = osp.join(REPO_ROOT, 'tools', 'analysis_tools',
                    'profile_folded_decoding.py')
    proc = subprocess.run(
        [sys.executable, tool, '--k', '2', '--batch', '1', '--repeats', '1'],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert '== folded: K=2, batch 1' in out and '== loop: K=2, batch 1' in out
    # both operator tables list the decoder's convolutions
    assert out.count('convolution') >= 2
