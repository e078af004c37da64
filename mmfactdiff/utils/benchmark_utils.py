# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Measurement primitives of ``tools/analysis_tools/benchmark.py``: timing
with device synchronisation, the process's resident memory and a
description of the machine."""
import datetime
import os
import platform
import statistics
import subprocess
import time
from typing import Callable, Dict, Optional

import torch


def sync_device(device: str) -> None:
    """Wait for the device's queued work (a no-op unless CUDA).

    Args:
        device (str): ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
    """
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def timeit(fn: Callable[[], object],
           warmup: int,
           repeats: int,
           device: str = 'cpu') -> Dict[str, object]:
    """Median wall time of ``fn()`` after ``warmup`` untimed calls.

    Args:
        fn (callable): What to time.
        warmup (int): Untimed calls first.
        repeats (int): Timed calls.
        device (str): Synchronised around each call when CUDA.

    Returns:
        dict: ``median_s``, ``min_s`` and all ``runs_s``.
    """
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(max(1, repeats)):
        sync_device(device)
        start = time.perf_counter()
        fn()
        sync_device(device)
        runs.append(time.perf_counter() - start)
    return dict(median_s=statistics.median(runs), min_s=min(runs), runs_s=runs)


def rss_bytes() -> int:
    """Resident set size of this process now (Linux)."""
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def machine_info(device: str,
                 repo_root: Optional[str] = None) -> Dict[str, object]:
    """What the numbers were measured on.

    Args:
        device (str): The device measured on (``cuda`` adds the GPU name).
        repo_root (str, optional): Git checkout whose commit is reported
            (``+uncommitted`` when it has changes). Defaults to None, the
            current working directory.

    Returns:
        dict: CPU, core and thread counts, versions, device, date and
        commit.
    """
    import mmcv
    import mmengine
    import mmseg
    cpu = platform.processor()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(
                line.split(':', 1)[1].strip() for line in f
                if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    info = dict(
        cpu=cpu,
        cpu_count=os.cpu_count(),
        torch_threads=torch.get_num_threads(),
        python=platform.python_version(),
        torch=torch.__version__,
        mmengine=mmengine.__version__,
        mmcv=mmcv.__version__,
        mmseg=mmseg.__version__,
        device=device,
        date=datetime.datetime.now().isoformat(timespec='seconds'))
    if device.startswith('cuda'):
        info['gpu'] = torch.cuda.get_device_name()
    try:
        commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                                cwd=repo_root,
                                capture_output=True,
                                text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain'],
                               cwd=repo_root,
                               capture_output=True,
                               text=True).stdout.strip()
        info['commit'] = commit + ('+uncommitted' if dirty else '')
    except (OSError, subprocess.CalledProcessError):
        info['commit'] = 'unknown'
    return info
