# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Performance of the factorized model, measured in one run on one machine.

For each config (default: the tiny 32x32 and the paper-size 64x64 models)
it measures, with warm-up and the median over repeats:

- FLOPs (``get_flops.py``) and wall time of the full factorized forward,
  the segmentation fast path, a plain U-Net of the same width, and one
  training step (forward, backward, Adam) of the factorized model and of
  the plain U-Net;
- folded decoding (K regions in the batch) against a loop over K;
- sampling time per image, DDPM (1000 steps) and DDIM (50 steps);
- segmenting one image with the fast path against a DDPM-seg style feature
  pass (three plain U-Net passes, decoder features upsampled and
  concatenated);
- peak memory of a training step (batch 16, 64x64 by default) with and
  without gradient checkpointing, each in a fresh process: CPU RSS, and
  CUDA max allocated with ``--device cuda``;
- data pipeline throughput against training consumption;
- training-step time of the performance switches (channels_last, bf16
  autocast, gradient checkpointing, and torch.compile when asked for).

It writes a JSON file and the results section of ``docs/benchmarks.md``
(between the ``benchmark-results`` markers), with the command, the machine
and, for each target of the performance issue, whether it is met.

Whatever would run longer than ``--budget-s`` (a 1000-step sampling chain,
the backward pass of a large model's memory measurement) is measured on
fewer steps and extrapolated, or skipped; the output says which.

    OMP_NUM_THREADS=1 python tools/analysis_tools/benchmark.py \
        --threads 1 --out work_dirs/benchmark/cpu.json --md docs/benchmarks.md
    python tools/analysis_tools/benchmark.py --quick ...   # seconds, smoke
"""
import argparse
import copy
import json
import os
import os.path as osp
import shlex
import sys
import time
from typing import Dict, List, Optional

import torch

from mmfactdiff.utils import machine_info, sync_device, timeit

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from benchmark_memory import bench_memory, memory_child
from benchmark_models import build_on_device, looped_regions, train_step_fn
from benchmark_report import (check_markdown_target, evaluate_targets,
                              render_markdown, write_markdown)
from get_flops import ForwardPath, build_model, path_flops

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIGS = [
    'configs/factdiff/factdiff_unet-tiny-k2_1xb32-2k_synthetic-32x32.py',
    'configs/factdiff/factdiff_unet-k3_1xb64-50k_synthetic-64x64.py',
]
DEFAULT_BATCH_SIZES = [8, 1]
SWITCHES = ('channels_last', 'bf16', 'with_cp', 'compile')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Benchmark the factorized model (one run, one machine)')
    p.add_argument('--configs', nargs='+', default=DEFAULT_CONFIGS)
    p.add_argument(
        '--batch-sizes',
        type=int,
        nargs='+',
        default=None,
        help='timing batch size per config (default 8 1)')
    p.add_argument('--device', default='cpu', help='cpu or cuda')
    p.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch threads (default: torch\'s)')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument(
        '--budget-s',
        type=float,
        default=60.,
        help='longest single measurement; longer sampling chains '
        'are extrapolated, longer memory backward passes skipped')
    p.add_argument('--folded-k', type=int, nargs='+', default=[1, 2, 3, 4])
    p.add_argument('--ddpm-steps', type=int, default=1000)
    p.add_argument('--ddim-steps', type=int, default=50)
    p.add_argument(
        '--probe-steps',
        type=int,
        default=3,
        help='chain length used to estimate the time per step')
    p.add_argument('--mem-batch', type=int, default=16)
    p.add_argument('--mem-size', type=int, default=64)
    p.add_argument('--data-batches', type=int, default=5)
    p.add_argument(
        '--switches',
        nargs='*',
        choices=SWITCHES,
        default=None,
        help='switch rows (default: all but compile on CPU, all '
        'on CUDA)')
    p.add_argument(
        '--switch-configs',
        nargs='*',
        default=None,
        help='configs for the switch rows (default: the first)')
    p.add_argument('--compile-backend', default='inductor')
    p.add_argument(
        '--quick',
        action='store_true',
        help='tiny sizes and one repeat: checks the tool, '
        'measures nothing worth reporting')
    p.add_argument('--out', default='work_dirs/benchmark/benchmark.json')
    p.add_argument(
        '--md',
        default=None,
        help='markdown file whose results section to replace')
    p.add_argument('--memory-child', help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.batch_sizes is None:
        args.batch_sizes = (
            DEFAULT_BATCH_SIZES if args.configs == DEFAULT_CONFIGS else [1] *
            len(args.configs))
    if len(args.batch_sizes) != len(args.configs):
        raise ValueError('--batch-sizes needs one value per config')
    if args.quick:
        args.warmup, args.repeats = 0, 1
        args.folded_k = [1, 3]
        args.ddpm_steps, args.ddim_steps, args.probe_steps = 4, 2, 2
        args.mem_batch, args.mem_size = 2, 16
        args.data_batches = 1
        args.batch_sizes = [min(b, 2) for b in args.batch_sizes]
    if args.switches is None:
        args.switches = [
            s for s in SWITCHES
            if s != 'compile' or args.device.startswith('cuda')
        ]
    if args.switch_configs is None:
        args.switch_configs = args.configs[:1]
    return args


# -- sections -----------------------------------------------------------------
def bench_paths(model: torch.nn.Module, size: int, batch: int,
                args: argparse.Namespace) -> Dict[str, object]:
    """FLOPs and times of the forward paths and of the training steps."""
    flops = path_flops(model, (size, size), ('full', 'fast', 'plain'))
    x = torch.randn(batch, 3, size, size, device=args.device)
    times = {}
    model.eval()
    with torch.no_grad():
        for path in ('full', 'fast', 'plain'):
            fwd = ForwardPath(model, path)
            times[path] = timeit(lambda: fwd(x), args.warmup, args.repeats,
                                 args.device)
    for name, plain in (('train_factorized', False), ('train_plain', True)):
        step = train_step_fn(copy.deepcopy(model), x, plain=plain)
        times[name] = timeit(step, args.warmup, args.repeats, args.device)
    return dict(
        batch=batch,
        flops_per_image={
            k: v['flops']
            for k, v in flops.items()
        },
        params={
            k: v['params']
            for k, v in flops.items()
        },
        times=times)


def bench_folded(model: torch.nn.Module, size: int, batch: int,
                 args: argparse.Namespace) -> List[Dict[str, object]]:
    """Folded (one B*K batch) against looped (K passes) decoding."""
    model.eval()
    x = torch.randn(batch, 3, size, size, device=args.device)
    rows = []
    with torch.no_grad():
        t = model.scheduler.num_train_timesteps // 2
        feats = model.extract_feat(
            x, torch.full((batch, ), t, device=args.device))
        for k in args.folded_k:
            masks = torch.randn(
                batch, k, size, size, device=args.device).softmax(1)
            folded = timeit(
                lambda: model.decoder.forward_regions(feats, masks),
                args.warmup, args.repeats, args.device)
            looped = timeit(
                lambda: looped_regions(model.decoder, feats, masks),
                args.warmup, args.repeats, args.device)
            rows.append(
                dict(
                    k=k,
                    folded=folded,
                    looped=looped,
                    ratio=folded['median_s'] / looped['median_s']))
    return rows


def _chain_time(model: torch.nn.Module, size: int, steps: int,
                scheduler: dict) -> float:
    gen = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    model.sample(
        1, img_size=size, num_steps=steps, scheduler=scheduler, generator=gen)
    sync_device(str(next(model.parameters()).device))
    return time.perf_counter() - start


def bench_sampling(model: torch.nn.Module, size: int,
                   args: argparse.Namespace) -> Dict[str, object]:
    """Seconds per image of DDPM and DDIM chains (batch of one image)."""
    model.eval()
    base = dict(
        num_train_timesteps=model.scheduler.num_train_timesteps,
        beta_schedule=model.scheduler.beta_schedule)
    out = {}
    for name, steps, sched in (('ddpm', args.ddpm_steps,
                                dict(type='DDPMNoiseScheduler')),
                               ('ddim', args.ddim_steps,
                                dict(type='DDIMNoiseScheduler', eta=0.))):
        sched = dict(sched, **base)
        steps = min(steps, base['num_train_timesteps'])
        probe = min(args.probe_steps, steps)
        _chain_time(model, size, 1, sched)  # warm-up
        per_step = _chain_time(model, size, probe, sched) / probe
        if per_step * steps <= args.budget_s or probe == steps:
            seconds = _chain_time(model, size, steps, sched)
            measured = steps
        else:
            seconds = per_step * steps
            measured = probe
        out[name] = dict(
            steps=steps,
            seconds_per_image=seconds,
            measured_steps=measured,
            extrapolated=measured < steps)
    return out


def bench_ddpmseg(model: torch.nn.Module, size: int,
                  args: argparse.Namespace) -> Dict[str, object]:
    """Segmenting one image: fast path against the DDPM-seg feature pass."""
    model.eval()
    x = torch.randn(1, 3, size, size, device=args.device)
    out = {}
    with torch.no_grad():
        for path in ('fast', 'ddpmseg'):
            fwd = ForwardPath(model, path)
            out[path] = timeit(lambda: fwd(x), args.warmup, args.repeats,
                               args.device)
    flops = path_flops(model, (size, size), ('fast', 'ddpmseg'))
    out['flops'] = {k: v['flops'] for k, v in flops.items()}
    out['speedup'] = out['ddpmseg']['median_s'] / out['fast']['median_s']
    return out


def bench_data(config: str, train_imgs_per_s: float,
               args: argparse.Namespace) -> Dict[str, object]:
    """Images per second of the config's train dataloader (and the data
    preprocessor) against the measured training consumption."""
    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg = Config.fromfile(config)
    model = build_model(config)
    loader = Runner.build_dataloader(copy.deepcopy(cfg.train_dataloader))
    it = iter(loader)
    model.data_preprocessor(next(it), True)  # warm-up (workers start)
    start = time.perf_counter()
    images = 0
    for _ in range(args.data_batches):
        batch = model.data_preprocessor(next(it), True)
        images += batch['inputs'].shape[0]
    seconds = time.perf_counter() - start
    loader_rate = images / seconds
    return dict(
        batch_size=cfg.train_dataloader.batch_size,
        num_workers=cfg.train_dataloader.num_workers,
        loader_imgs_per_s=loader_rate,
        train_imgs_per_s=train_imgs_per_s,
        ratio=loader_rate / train_imgs_per_s,
        loader_share=train_imgs_per_s / (loader_rate + train_imgs_per_s))


def bench_switches(config: str, size: int, batch: int,
                   args: argparse.Namespace) -> Dict[str, object]:
    """Training-step time with each performance switch."""
    x = torch.randn(batch, 3, size, size, device=args.device)
    rows = {}
    for name in ['baseline'] + list(args.switches):
        opts = dict(channels_last=True) if name == 'channels_last' else \
            dict(with_cp=True) if name == 'with_cp' else {}
        model = build_on_device(config, args.device, **opts)
        kwargs = {}
        if name == 'bf16':
            kwargs['autocast_dtype'] = torch.bfloat16
        compile_s = None
        if name == 'compile':
            kwargs['loss_fn'] = torch.compile(
                model.loss, backend=args.compile_backend)
        step = train_step_fn(model, x, **kwargs)
        if name == 'compile':
            start = time.perf_counter()
            step()
            compile_s = time.perf_counter() - start
        rows[name] = timeit(step, args.warmup, args.repeats, args.device)
        rows[name]['first_call_s'] = compile_s
    base = rows['baseline']['median_s']
    for row in rows.values():
        row['speedup'] = base / row['median_s']
    return dict(batch=batch, size=size, rows=rows)


def main(argv: Optional[List[str]] = None) -> Dict[str, object]:
    """Run the benchmark; returns the result written to ``--out``."""
    args = parse_args(argv)
    if args.memory_child:
        print(json.dumps(memory_child(json.loads(args.memory_child))))
        return {}
    # outputs checked before minutes of measuring, not after
    from mmfactdiff.utils import dump_json_atomic, ensure_writable
    ensure_writable(args.out, '--out')
    if args.md:
        check_markdown_target(args.md)
    if args.threads:
        torch.set_num_threads(args.threads)
    argv = sys.argv[1:] if argv is None else argv
    command = ' '.join(([f'OMP_NUM_THREADS={os.environ["OMP_NUM_THREADS"]}']
                        if 'OMP_NUM_THREADS' in os.environ else []) +
                       ['python', 'tools/analysis_tools/benchmark.py'] +
                       [shlex.quote(a) for a in argv])
    result = dict(
        command=command,
        machine=machine_info(args.device, REPO_ROOT),
        quick=args.quick,
        warmup=args.warmup,
        repeats=args.repeats,
        configs=[])
    start = time.perf_counter()

    def log(msg: str) -> None:
        print(f'[{time.perf_counter() - start:6.1f}s] {msg}', flush=True)

    for config, batch in zip(args.configs, args.batch_sizes):
        model = build_on_device(config, args.device)
        size = int(model.test_cfg.get('img_size', 64))
        if args.quick:
            size = min(size, 16)
        name = osp.splitext(osp.basename(config))[0]
        r = dict(
            name=name, config=config, size=size, k=int(model.out_channels))
        log(f'{name}: paths')
        r['paths'] = bench_paths(model, size, batch, args)
        log(f'{name}: folded decoding')
        r['folded'] = bench_folded(model, size, batch, args)
        log(f'{name}: sampling')
        r['sampling'] = bench_sampling(model, size, args)
        log(f'{name}: segmentation vs DDPM-seg features')
        r['segmentation'] = bench_ddpmseg(model, size, args)
        log(f'{name}: data')
        train = r['paths']['times']['train_factorized']['median_s']
        r['data'] = bench_data(config, batch / train, args)
        log(f'{name}: memory')
        r['memory'] = bench_memory(config, args)
        if config in args.switch_configs and args.switches:
            log(f'{name}: switches')
            r['switches'] = bench_switches(config, size, batch, args)
        result['configs'].append(r)
    result['targets'] = evaluate_targets(result)
    result['total_s'] = time.perf_counter() - start
    log('done')
    dump_json_atomic(result, args.out)
    section = render_markdown(result)
    if args.md:
        write_markdown(args.md, section)
    print(section)
    return result


if __name__ == '__main__':
    main()
