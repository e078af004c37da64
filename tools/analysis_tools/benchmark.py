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
import datetime
import json
import os
import os.path as osp
import platform
import shlex
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from get_flops import ForwardPath, build_model, path_flops  # noqa: E402

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIGS = [
    'configs/factdiff/factdiff_unet-tiny-k2_1xb32-2k_synthetic-32x32.py',
    'configs/factdiff/factdiff_unet-k3_1xb64-50k_synthetic-64x64.py',
]
DEFAULT_BATCH_SIZES = [8, 1]
MD_START = '<!-- benchmark-results:start -->'
MD_END = '<!-- benchmark-results:end -->'
SWITCHES = ('channels_last', 'bf16', 'with_cp', 'compile')
#: timing noise allowed by "no slower than" comparisons
NOISE = 1.05


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Benchmark the factorized model (one run, one machine)')
    p.add_argument('--configs', nargs='+', default=DEFAULT_CONFIGS)
    p.add_argument('--batch-sizes', type=int, nargs='+', default=None,
                   help='timing batch size per config (default 8 1)')
    p.add_argument('--device', default='cpu', help='cpu or cuda')
    p.add_argument('--threads', type=int, default=None,
                   help='torch threads (default: torch\'s)')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--budget-s', type=float, default=60.,
                   help='longest single measurement; longer sampling chains '
                   'are extrapolated, longer memory backward passes skipped')
    p.add_argument('--folded-k', type=int, nargs='+', default=[1, 2, 3, 4])
    p.add_argument('--ddpm-steps', type=int, default=1000)
    p.add_argument('--ddim-steps', type=int, default=50)
    p.add_argument('--probe-steps', type=int, default=3,
                   help='chain length used to estimate the time per step')
    p.add_argument('--mem-batch', type=int, default=16)
    p.add_argument('--mem-size', type=int, default=64)
    p.add_argument('--data-batches', type=int, default=5)
    p.add_argument('--switches', nargs='*', choices=SWITCHES, default=None,
                   help='switch rows (default: all but compile on CPU, all '
                   'on CUDA)')
    p.add_argument('--switch-configs', nargs='*', default=None,
                   help='configs for the switch rows (default: the first)')
    p.add_argument('--compile-backend', default='inductor')
    p.add_argument('--quick', action='store_true',
                   help='tiny sizes and one repeat: checks the tool, '
                   'measures nothing worth reporting')
    p.add_argument('--out', default='work_dirs/benchmark/benchmark.json')
    p.add_argument('--md', default=None,
                   help='markdown file whose results section to replace')
    p.add_argument('--memory-child', help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.batch_sizes is None:
        args.batch_sizes = (DEFAULT_BATCH_SIZES if args.configs
                            == DEFAULT_CONFIGS else [1] * len(args.configs))
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


# -- measuring ----------------------------------------------------------------
def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def timeit(fn: Callable[[], object], warmup: int, repeats: int,
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
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        runs.append(time.perf_counter() - start)
    return dict(median_s=statistics.median(runs), min_s=min(runs),
                runs_s=runs)


def rss_bytes() -> int:
    """Resident set size of this process now (Linux)."""
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def machine_info(device: str) -> Dict[str, object]:
    """What the numbers were measured on."""
    import mmcv
    import mmengine
    import mmseg
    cpu = platform.processor()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f
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
                                cwd=REPO_ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain'],
                               cwd=REPO_ROOT, capture_output=True,
                               text=True).stdout.strip()
        info['commit'] = commit + ('+uncommitted' if dirty else '')
    except (OSError, subprocess.CalledProcessError):
        info['commit'] = 'unknown'
    return info


def _model(config: str, device: str, **options) -> torch.nn.Module:
    opts = {f'model.{k}': v for k, v in options.items()}
    return build_model(config, opts).to(device)


def plain_loss(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """DDPM loss of the same-width plain U-Net cut from ``model``.

    Args:
        model (nn.Module): The segmentor.
        x (Tensor): Images in [-1, 1].

    Returns:
        Tensor: The epsilon MSE.
    """
    t = model.scheduler.sample_timesteps(x.shape[0], x.device)
    noise = torch.randn_like(x)
    x_t = model.scheduler.add_noise(x, noise, t)
    eps = ForwardPath(model, 'plain').plain_unet(x_t, t)[0]
    return F.mse_loss(eps.float(), noise.float())


def train_step_fn(model: torch.nn.Module,
                  x: torch.Tensor,
                  plain: bool = False,
                  autocast_dtype: Optional[torch.dtype] = None,
                  loss_fn: Optional[Callable] = None) -> Callable[[], None]:
    """One training step (forward, backward, Adam) as a closure.

    Args:
        model (nn.Module): The segmentor.
        x (Tensor): Images in [-1, 1].
        plain (bool): Train the same-width plain U-Net (encoder and one
            decoder) instead of the factorized model. Defaults to False.
        autocast_dtype (torch.dtype, optional): Mixed precision dtype.
            Defaults to None.
        loss_fn (callable, optional): Replaces ``model.loss`` (e.g. a
            compiled version). Defaults to None.

    Returns:
        callable: The step.
    """
    model.train()
    if plain:
        params = [p for m in (model.backbone, model.decoder.decoders[0])
                  for p in m.parameters()]
    else:
        params = list(model.parameters())
    optim = torch.optim.Adam(params, lr=1e-4)
    loss_fn = loss_fn or model.loss
    device_type = x.device.type

    def step() -> None:
        with torch.autocast(device_type, dtype=autocast_dtype,
                            enabled=autocast_dtype is not None):
            if plain:
                loss = plain_loss(model, x)
            else:
                loss = sum(loss_fn(x, None).values())
        loss.backward()
        optim.step()
        optim.zero_grad(set_to_none=True)

    return step


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
    return dict(batch=batch, flops_per_image={
        k: v['flops'] for k, v in flops.items()
    }, params={k: v['params'] for k, v in flops.items()}, times=times)


def looped_regions(decoder: torch.nn.Module, feats: Sequence[torch.Tensor],
                   masks: torch.Tensor) -> torch.Tensor:
    """Benchmark-only reference: the K regions decoded one pass at a time
    (what folding K into the batch replaces; equal outputs are tested in
    the decoder's tests)."""
    return torch.stack([
        decoder.forward_region(feats, masks[:, i:i + 1], region=i)
        for i in range(masks.shape[1])
    ], dim=1)


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
            masks = torch.randn(batch, k, size, size,
                                device=args.device).softmax(1)
            folded = timeit(
                lambda: model.decoder.forward_regions(feats, masks),
                args.warmup, args.repeats, args.device)
            looped = timeit(
                lambda: looped_regions(model.decoder, feats, masks),
                args.warmup, args.repeats, args.device)
            rows.append(dict(k=k, folded=folded, looped=looped,
                             ratio=folded['median_s'] / looped['median_s']))
    return rows


def _chain_time(model: torch.nn.Module, size: int, steps: int,
                scheduler: dict) -> float:
    gen = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    model.sample(1, img_size=size, num_steps=steps, scheduler=scheduler,
                 generator=gen)
    _sync(str(next(model.parameters()).device))
    return time.perf_counter() - start


def bench_sampling(model: torch.nn.Module, size: int,
                   args: argparse.Namespace) -> Dict[str, object]:
    """Seconds per image of DDPM and DDIM chains (batch of one image)."""
    model.eval()
    base = dict(num_train_timesteps=model.scheduler.num_train_timesteps,
                beta_schedule=model.scheduler.beta_schedule)
    out = {}
    for name, steps, sched in (
            ('ddpm', args.ddpm_steps, dict(type='DDPMNoiseScheduler')),
            ('ddim', args.ddim_steps, dict(type='DDIMNoiseScheduler',
                                           eta=0.))):
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
        out[name] = dict(steps=steps, seconds_per_image=seconds,
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
    return dict(batch_size=cfg.train_dataloader.batch_size,
                num_workers=cfg.train_dataloader.num_workers,
                loader_imgs_per_s=loader_rate,
                train_imgs_per_s=train_imgs_per_s,
                ratio=loader_rate / train_imgs_per_s,
                loader_share=train_imgs_per_s /
                (loader_rate + train_imgs_per_s))


def bench_switches(config: str, size: int, batch: int,
                   args: argparse.Namespace) -> Dict[str, object]:
    """Training-step time with each performance switch."""
    x = torch.randn(batch, 3, size, size, device=args.device)
    rows = {}
    for name in ['baseline'] + list(args.switches):
        opts = dict(channels_last=True) if name == 'channels_last' else \
            dict(with_cp=True) if name == 'with_cp' else {}
        model = _model(config, args.device, **opts)
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


class _PeakSampler:
    """Polls a memory reading in a thread and keeps the maximum."""

    def __init__(self, read: Callable[[], int], period_s: float = 5e-4):
        import threading
        self.read, self.period_s = read, period_s
        self.peak = read()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.read())
            time.sleep(self.period_s)

    def __enter__(self) -> '_PeakSampler':
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.read())


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
    model = _model(spec['config'], device, with_cp=spec['with_cp'])
    model.train()
    x = torch.randn(spec['batch'], 3, spec['size'], spec['size'],
                    device=device)
    torch.manual_seed(0)
    factor = 3 if spec['with_cp'] else 2

    start = time.perf_counter()
    loss = sum(model.loss(x[:1], None).values())
    _sync(device)
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
    with _PeakSampler(now) as sampler:
        start = time.perf_counter()
        loss = sum(model.loss(x, None).values())
        _sync(device)
        fwd_s = time.perf_counter() - start
        after_fwd = now()
        if run_backward:
            loss.backward()
            _sync(device)
    peak = torch.cuda.max_memory_allocated() if cuda else sampler.peak
    return dict(spec, base_bytes=base, activation_bytes=after_fwd - base,
                forward_s=fwd_s,
                peak_bytes=peak - base if run_backward else None,
                backward_skipped=not run_backward)


def bench_memory(config: str, args: argparse.Namespace) -> Dict[str, object]:
    """Training-step memory with and without checkpointing, each measured in
    a fresh process."""
    out = {}
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536')
    for with_cp in (False, True):
        spec = dict(config=config, with_cp=with_cp, batch=args.mem_batch,
                    size=args.mem_size, device=args.device,
                    threads=args.threads, budget_s=args.budget_s)
        proc = subprocess.run(
            [sys.executable, osp.abspath(__file__), '--memory-child',
             json.dumps(spec)],
            capture_output=True, text=True, env=env, cwd=REPO_ROOT)
        if proc.returncode != 0:
            raise RuntimeError(f'memory measurement failed:\n{proc.stderr}')
        out['with_cp' if with_cp else 'no_cp'] = json.loads(
            proc.stdout.strip().splitlines()[-1])
    off, on = out['no_cp']['activation_bytes'], out['with_cp'][
        'activation_bytes']
    out['activation_reduction'] = 1. - on / off if off > 0 else None
    return out


# -- targets and report -------------------------------------------------------
def evaluate_targets(result: Dict[str, object]) -> List[Dict[str, object]]:
    """The issue's targets, each with the measured value and a verdict.

    Args:
        result (dict): The benchmark result (``configs`` list).

    Returns:
        list[dict]: ``config``, ``target``, ``measured`` (str), ``met``
        (bool or None when not measured).
    """
    rows = []
    for r in result['configs']:
        name = r['name']
        paths = r['paths']
        fl, tm = paths['flops_per_image'], paths['times']
        flop_ratio = fl['fast'] / fl['full']
        time_ratio = tm['fast']['median_s'] / tm['full']['median_s']
        rows.append(dict(
            config=name, target='fast path / full forward time <= 1.1 x '
            'their FLOP ratio',
            measured=f'{time_ratio:.3f} vs 1.1 x {flop_ratio:.3f} = '
            f'{1.1 * flop_ratio:.3f}',
            met=time_ratio <= 1.1 * flop_ratio))
        flop_ratio = fl['full'] / fl['plain']
        time_ratio = (tm['train_factorized']['median_s'] /
                      tm['train_plain']['median_s'])
        rows.append(dict(
            config=name, target='factorized / plain U-Net training step '
            '<= 1.1 x their FLOP ratio',
            measured=f'{time_ratio:.3f} vs 1.1 x {flop_ratio:.3f} = '
            f'{1.1 * flop_ratio:.3f}',
            met=time_ratio <= 1.1 * flop_ratio))
        folded = r['folded']
        no_slower = all(f['ratio'] <= NOISE for f in folded)
        faster = [f for f in folded if f['k'] >= 3]
        rows.append(dict(
            config=name, target=f'folded decoding no slower than the K-loop'
            f' at any K (folded/loop <= {NOISE})',
            measured=', '.join(f'K={f["k"]}: {f["ratio"]:.3f}'
                               for f in folded),
            met=no_slower))
        rows.append(dict(
            config=name, target='folded decoding faster than the K-loop at '
            'K >= 3 (folded/loop < 1)',
            measured=', '.join(f'K={f["k"]}: {f["ratio"]:.3f}'
                               for f in faster) or 'no K >= 3 measured',
            met=all(f['ratio'] < 1 for f in faster) if faster else None))
        seg = r['segmentation']
        rows.append(dict(
            config=name, target='segmenting one image >= 10x faster than a '
            '3-timestep full U-Net feature pass (DDPM-seg)',
            measured=f'{seg["speedup"]:.2f}x (FLOP ratio '
            f'{seg["flops"]["ddpmseg"] / seg["flops"]["fast"]:.2f}x)',
            met=seg['speedup'] >= 10))
        red = r['memory']['activation_reduction']
        rows.append(dict(
            config=name, target='gradient checkpointing cuts training '
            'activation memory by >= 40%',
            measured='n/a' if red is None else f'{100 * red:.1f}%',
            met=None if red is None else red >= 0.4))
        data = r['data']
        rows.append(dict(
            config=name, target='data loader faster than training '
            'consumption (never the bottleneck)',
            measured=f'{data["loader_imgs_per_s"]:.0f} vs '
            f'{data["train_imgs_per_s"]:.1f} img/s '
            f'({data["ratio"]:.0f}x)',
            met=data['ratio'] >= 1))
    return rows


def _ms(t: Dict[str, object]) -> str:
    return f'{1e3 * t["median_s"]:.1f}'


def _mib(b: Optional[int]) -> str:
    return 'skipped' if b is None else f'{b / 2**20:.0f}'


def _verdict(met: Optional[bool]) -> str:
    return 'not measured' if met is None else ('met' if met else '**missed**')


def render_markdown(result: Dict[str, object]) -> str:
    """The results section of ``docs/benchmarks.md``.

    Args:
        result (dict): The benchmark result.

    Returns:
        str: Markdown (without the markers).
    """
    m = result['machine']
    lines = [
        f'Measured {m["date"]} at commit `{m["commit"]}`'
        + (' (**--quick: smoke-test sizes, not a measurement**)'
           if result['quick'] else '') + '.', '',
        '```bash', result['command'], '```', '',
        f'Machine: {m["cpu"]}, {m["cpu_count"]} cores, torch threads '
        f'{m["torch_threads"]}' + (f', GPU {m["gpu"]}' if 'gpu' in m else '')
        + f'; device `{m["device"]}`; python {m["python"]}, torch '
        f'{m["torch"]}, mmengine {m["mmengine"]}, mmcv {m["mmcv"]}, mmseg '
        f'{m["mmseg"]}. Times are medians of {result["repeats"]} runs after '
        f'{result["warmup"]} warm-up run(s). FLOPs count a multiply-add as '
        'one (fvcore convention), per image.', '', '### Targets', '',
        '| config | target | measured | verdict |', '| --- | --- | --- | --- |'
    ]
    for t in result['targets']:
        lines.append(f'| {t["config"]} | {t["target"]} | {t["measured"]} | '
                     f'{_verdict(t["met"])} |')
    for r in result['configs']:
        p = r['paths']
        fl, tm, b = p['flops_per_image'], p['times'], p['batch']
        lines += [
            '', f'### {r["name"]} ({r["size"]}x{r["size"]}, K = {r["k"]})',
            '', f'Forward paths and training steps, batch {b}:', '',
            '| what | GFLOPs / image | ms / batch | ms / image |',
            '| --- | --- | --- | --- |'
        ]
        for key, label, f in (
                ('full', 'full factorized forward', fl['full']),
                ('fast', 'segmentation fast path', fl['fast']),
                ('plain', 'plain same-width U-Net forward', fl['plain']),
                ('train_factorized', 'training step, factorized',
                 3 * fl['full']),
                ('train_plain', 'training step, plain U-Net',
                 3 * fl['plain'])):
            lines.append(
                f'| {label} | {f / 1e9:.3f}'
                + (' (~3x fwd)' if key.startswith('train') else '') +
                f' | {_ms(tm[key])} | '
                f'{1e3 * tm[key]["median_s"] / b:.1f} |')
        lines += [
            '', f'Decoding K regions, batch {b} (decoder only, no grad):', '',
            '| K | folded ms | K-loop ms | folded / loop |',
            '| --- | --- | --- | --- |'
        ]
        for f in r['folded']:
            lines.append(f'| {f["k"]} | {_ms(f["folded"])} | '
                         f'{_ms(f["looped"])} | {f["ratio"]:.3f} |')
        s = r['sampling']
        lines += ['', '| sampling (1 image) | steps | s / image | how |',
                  '| --- | --- | --- | --- |']
        for key in ('ddpm', 'ddim'):
            x = s[key]
            how = (f'extrapolated from {x["measured_steps"]} steps'
                   if x['extrapolated'] else 'measured')
            lines.append(f'| {key.upper()} | {x["steps"]} | '
                         f'{x["seconds_per_image"]:.2f} | {how} |')
        seg = r['segmentation']
        lines += [
            '', '| segmenting one image | GFLOPs | ms |',
            '| --- | --- | --- |',
            f'| fast path | {seg["flops"]["fast"] / 1e9:.3f} | '
            f'{_ms(seg["fast"])} |',
            f'| DDPM-seg feature pass (3 timesteps) | '
            f'{seg["flops"]["ddpmseg"] / 1e9:.3f} | {_ms(seg["ddpmseg"])} |'
        ]
        mem = r['memory']
        kind = ('CUDA allocated'
                if m['device'].startswith('cuda') else 'CPU RSS')
        lines += [
            '', f'Training-step memory, batch {mem["no_cp"]["batch"]}, '
            f'{mem["no_cp"]["size"]}x{mem["no_cp"]["size"]}, fresh process '
            f'each ({kind}, MiB over the state before the step):', '',
            '| gradient checkpointing | activations after forward | '
            'step peak | forward s |', '| --- | --- | --- | --- |'
        ]
        for key, label in (('no_cp', 'off'), ('with_cp', 'on')):
            x = mem[key]
            lines.append(f'| {label} | {_mib(x["activation_bytes"])} | '
                         f'{_mib(x["peak_bytes"])} | {x["forward_s"]:.1f} |')
        d = r['data']
        lines += [
            '', f'Data: train loader (batch {d["batch_size"]}, '
            f'{d["num_workers"]} workers, with the data preprocessor) '
            f'{d["loader_imgs_per_s"]:.0f} img/s; training consumes '
            f'{d["train_imgs_per_s"]:.1f} img/s; the loader takes '
            f'{100 * d["loader_share"]:.1f}% of a serial step.'
        ]
        if r.get('switches'):
            sw = r['switches']
            lines += [
                '', f'Switches, training step, batch {sw["batch"]}:', '',
                '| switch | ms / step | speed-up | first call s |',
                '| --- | --- | --- | --- |'
            ]
            for key, x in sw['rows'].items():
                first = ('' if x.get('first_call_s') is None else
                         f'{x["first_call_s"]:.1f}')
                lines.append(f'| {key} | {_ms(x)} | {x["speedup"]:.2f} | '
                             f'{first} |')
    return '\n'.join(lines) + '\n'


def write_markdown(path: str, section: str) -> None:
    """Replace the text between the result markers of ``path``.

    Args:
        path (str): Markdown file with :data:`MD_START` and :data:`MD_END`.
        section (str): New content.
    """
    with open(path) as f:
        text = f.read()
    if MD_START not in text or MD_END not in text:
        raise ValueError(f'{path} has no {MD_START} ... {MD_END} markers')
    head, rest = text.split(MD_START, 1)
    _, tail = rest.split(MD_END, 1)
    with open(path, 'w') as f:
        f.write(f'{head}{MD_START}\n{section}{MD_END}{tail}')


def main(argv: Optional[List[str]] = None) -> Dict[str, object]:
    """Run the benchmark; returns the result written to ``--out``."""
    args = parse_args(argv)
    if args.memory_child:
        print(json.dumps(memory_child(json.loads(args.memory_child))))
        return {}
    if args.threads:
        torch.set_num_threads(args.threads)
    argv = sys.argv[1:] if argv is None else argv
    command = ' '.join(
        ([f'OMP_NUM_THREADS={os.environ["OMP_NUM_THREADS"]}']
         if 'OMP_NUM_THREADS' in os.environ else []) +
        ['python', 'tools/analysis_tools/benchmark.py'] +
        [shlex.quote(a) for a in argv])
    result = dict(command=command, machine=machine_info(args.device),
                  quick=args.quick, warmup=args.warmup,
                  repeats=args.repeats, configs=[])
    start = time.perf_counter()

    def log(msg: str) -> None:
        print(f'[{time.perf_counter() - start:6.1f}s] {msg}', flush=True)

    for config, batch in zip(args.configs, args.batch_sizes):
        model = _model(config, args.device)
        size = int(model.test_cfg.get('img_size', 64))
        if args.quick:
            size = min(size, 16)
        name = osp.splitext(osp.basename(config))[0]
        r = dict(name=name, config=config, size=size,
                 k=int(model.out_channels))
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
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(result, f, indent=1)
    section = render_markdown(result)
    if args.md:
        write_markdown(args.md, section)
    print(section)
    return result


if __name__ == '__main__':
    main()
