# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Training-step memory for ``benchmark.py``, with and without gradient
checkpointing, each measured in a fresh ``benchmark.py --memory-child``
process."""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict

import torch

from mmfactdiff.utils import PeakRSSSampler, rss_bytes, sync_device

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from benchmark_models import build_on_device  # noqa: E402

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: the tool the child processes run (``--memory-child``)
BENCHMARK_TOOL = osp.join(osp.dirname(osp.abspath(__file__)), 'benchmark.py')


def memory_child(spec: dict) -> dict:
    """Memory of one training step (forward and backward), in this fresh
    process.

    A warm-up step on one image first pages in the kernels and allocator
    pools, so that one-time costs are not counted. ``activation_bytes``:
    memory held after the forward (what the backward needs);
    ``peak_bytes``: the step's peak, both over the state before the step.
    CPU numbers are RSS (polled; run with ``MALLOC_MMAP_THRESHOLD_`` set so
    that freed tensors leave the RSS); CUDA numbers are the allocator's.
    The backward is skipped when its estimate (2x the forward, 3x with
    checkpointing) is over ``budget_s``.

    Args:
        spec (dict): ``config``, ``with_cp``, ``batch``, ``size``,
            ``device``, ``threads``, ``budget_s``.

    Returns:
        dict: ``spec`` plus the measurements.
    """
    import gc
    device = spec['device']
    if spec.get('threads'):
        torch.set_num_threads(spec['threads'])
    cuda = device.startswith('cuda')
    model = build_on_device(spec['config'], device, with_cp=spec['with_cp'])
    model.train()
    x = torch.randn(
        spec['batch'], 3, spec['size'], spec['size'], device=device)
    torch.manual_seed(0)
    factor = 3 if spec['with_cp'] else 2

    start = time.perf_counter()
    loss = model.parse_losses(model.loss(x[:1], None))[0]
    sync_device(device)
    est_fwd_s = (time.perf_counter() - start) * spec['batch']
    run_backward = est_fwd_s * factor <= spec['budget_s']
    if run_backward:
        loss.backward()
    del loss
    model.zero_grad(set_to_none=True)
    gc.collect()

    def now() -> int:
        return torch.cuda.memory_allocated() if cuda else rss_bytes()

    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    base = now()
    with PeakRSSSampler(now) as sampler:
        start = time.perf_counter()
        loss = model.parse_losses(model.loss(x, None))[0]
        sync_device(device)
        fwd_s = time.perf_counter() - start
        after_fwd = now()
        if run_backward:
            loss.backward()
            sync_device(device)
    peak = torch.cuda.max_memory_allocated() if cuda else sampler.peak
    return dict(
        spec,
        base_bytes=base,
        activation_bytes=after_fwd - base,
        forward_s=fwd_s,
        peak_bytes=peak - base if run_backward else None,
        backward_skipped=not run_backward)


def bench_memory(config: str, args: argparse.Namespace) -> Dict[str, object]:
    """Training-step memory with and without checkpointing, each measured in
    a fresh process."""
    out = {}
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536')
    for with_cp in (False, True):
        spec = dict(
            config=config,
            with_cp=with_cp,
            batch=args.mem_batch,
            size=args.mem_size,
            device=args.device,
            threads=args.threads,
            budget_s=args.budget_s)
        proc = subprocess.run([
            sys.executable, BENCHMARK_TOOL, '--memory-child',
            json.dumps(spec)
        ],
                              capture_output=True,
                              text=True,
                              env=env,
                              cwd=REPO_ROOT)
        if proc.returncode != 0:
            raise RuntimeError(f'memory measurement failed:\n{proc.stderr}')
        out['with_cp' if with_cp else 'no_cp'] = json.loads(
            proc.stdout.strip().splitlines()[-1])
    off, on = out['no_cp']['activation_bytes'], out['with_cp'][
        'activation_bytes']
    out['activation_reduction'] = 1. - on / off if off > 0 else None
    return out
