# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Turn what ``tools/train.py`` / ``tools/test.py`` measured into result rows.

Every number the docs report is a row of ``docs/data/results/<dataset>.json``
(a list of objects). This tool reads the work directories of runs made with
the standard tools and writes their metrics as rows, replacing rows of the
same run, so that tables are generated from data (``make_tables.py``):

- a training run (``tools/train.py``): the validation metrics logged at
  every validation point (``<work_dir>/<time>/vis_data/scalars.json``), one
  row per metric and iteration, plus the mean seconds per iteration;
- a test run (``tools/test.py --work-dir``): the test metrics
  (``<work_dir>/<time>/<time>.json``) at the checkpoint's iteration (0 for
  models without weights);
- with ``--probe-logs``, the logs printed by the reference probe script
  (``factorized_probe.py`` of the method spec): its foreground IoU at t = 30
  (a fraction there, converted to percent here) at every printed step.

Each row holds: dataset, method, config, cfg_options, seed, metric, value
(in the metric's own units: percent), iterations, labels_used (labelled
images used for training: 0 for every label-free method), weights (``ema``
or ``raw``: which weights the evaluation read), device, run, and
sec_per_iter for training runs.

    python projects/emergence_study/tools/record_results.py \\
        work_dirs/study/probe-s0 --dataset simple_shapes \\
        --method "factorized (probe config)" \\
        --out docs/data/results/simple_shapes.json
"""
import argparse
import glob
import json
import os
import os.path as osp
import platform
import re
import sys
from typing import Dict, Iterator, List, Optional, Tuple

from mmfactdiff.utils.result_rows import ROW_KEY_FIELDS, update_result_rows

# metric keys of the runs -> row metric names
METRICS = {
    'IoU': 'fg_IoU',
    'Acc': 'fg_Acc',
    'DICE': 'fg_DICE',
    'mIoU': 'hungarian_mIoU',
    # DAVISMetric (unsupervised protocol)
    'J&F-Mean': 'J&F',
    'J-Mean': 'J',
    'F-Mean': 'F',
    # tools/test.py --resources (TestResourceHook)
    'sec_per_img': 'sec_per_img',
    'peak_rss_GB': 'peak_rss_GB',
    'peak_cuda_GB': 'peak_cuda_GB',
    # RegionGainMetric (label-free, the main job's checkpoint selection)
    'region_gain': 'region_gain',
}
KEY_FIELDS = ROW_KEY_FIELDS


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('work_dirs', nargs='+', help='work directories of runs')
    p.add_argument(
        '--dataset',
        required=True,
        help='dataset name of the rows (e.g. synthetic_shapes)')
    p.add_argument('--method', required=True, help='method name of the rows')
    p.add_argument('--out', required=True, help='results JSON to update')
    p.add_argument(
        '--labels-used',
        type=int,
        default=0,
        help='labelled images used for training (default 0)')
    p.add_argument(
        '--device',
        default=None,
        help='what ran it (default: "CPU, <n> threads" from the '
        "run's log)")
    p.add_argument('--note', default=None, help='a note kept in the rows')
    p.add_argument(
        '--protocol',
        default=None,
        help='how the metric was taken, kept in the rows (comparison '
        'tables show it)')
    p.add_argument(
        '--pretrained',
        default=None,
        help='pretrained weights the method used, kept in the rows '
        '(e.g. "none")')
    p.add_argument(
        '--metric-name',
        action='append',
        default=[],
        metavar='KEY=NAME',
        help='record the logged metric KEY as NAME (repeatable), e.g. '
        'mIoU=mIoU for a supervised classifier, whose mIoU is not the '
        'Hungarian-matched one of the label-free runs')
    p.add_argument(
        '--probe-logs',
        action='store_true',
        help='the arguments are logs of the reference probe '
        'script, not work directories')
    return p.parse_args(argv)


def metric_names(overrides: List[str]) -> Dict[str, str]:
    """The logged-key -> row-metric map, with ``KEY=NAME`` overrides."""
    names = dict(METRICS)
    for item in overrides:
        key, sep, name = item.partition('=')
        if not sep or not key or not name:
            raise ValueError(f'--metric-name: expected KEY=NAME, got '
                             f'{item!r}')
        names[key] = name
    return names


def _latest(paths: List[str]) -> Optional[str]:
    return sorted(paths)[-1] if paths else None


REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
# keys that the tools set per run, not part of what was trained
RUN_KEYS = ('work_dir', 'launcher', 'randomness', 'load_from', 'resume',
            'visualizer.name', 'filename')


def load_run_config(work_dir: str):
    """The config the run dumped into its work dir (``Config``) and the
    repository path of its source config (found by the dump's name)."""
    from mmengine.config import Config
    dumps = glob.glob(osp.join(work_dir, '*.py'))
    if len(dumps) != 1:
        raise FileNotFoundError(
            f'{work_dir}: expected one config dump (*.py) written by the '
            f'runner, found {len(dumps)}')
    name = osp.basename(dumps[0])
    sources = [
        p
        for pattern in ('configs/**/' + name, 'projects/*/configs/**/' + name)
        for p in glob.glob(osp.join(REPO, pattern), recursive=True)
    ]
    if len(sources) != 1:
        raise FileNotFoundError(
            f'{work_dir}: the run config {name} must match exactly one '
            f'config of the repository, found {len(sources)}')
    # reading a config must not import its custom modules: a project's
    # package is importable only with the repository on sys.path
    return (Config.fromfile(dumps[0], import_custom_modules=False),
            osp.relpath(sources[0], REPO))


def _flatten(d, prefix=''):
    out = {}
    for k, v in d.items():
        key = f'{prefix}{k}'
        if isinstance(v, dict):
            out.update(_flatten(v, key + '.'))
        else:
            out[key] = v
    return out


def config_changes(source: str, dumped) -> Dict:
    """What the run changed in its source config (its ``--cfg-options``),
    as dotted keys, leaving out per-run keys (work dir, seed, ...)."""
    from mmengine.config import Config
    a = _flatten(
        Config.fromfile(osp.join(REPO, source),
                        import_custom_modules=False).to_dict())
    b = _flatten(dumped.to_dict())

    def keep(k):
        return not any(k == r or k.startswith(r + '.') for r in RUN_KEYS)

    changed = {
        k: b.get(k)
        for k in sorted(set(a) | set(b))
        if keep(k) and json.dumps(a.get(k), sort_keys=True, default=str) !=
        json.dumps(b.get(k), sort_keys=True, default=str)
    }
    return changed or None


def _device_from_log(run_dir: str) -> str:
    """'CPU, N threads' or the GPU name, from the runner's log header."""
    log = _latest(glob.glob(osp.join(run_dir, '*.log')))
    text = open(log).read(20000) if log else ''
    gpu = re.search(r'GPU 0[^:]*: (.+)', text)
    if gpu:
        return gpu.group(1).strip()
    threads = os.environ.get('OMP_NUM_THREADS')
    m = re.search(r'OMP_NUM_THREADS[^\d]*(\d+)', text)
    if m:
        threads = m.group(1)
    cpu = platform.processor() or platform.machine()
    return f'CPU ({cpu}, {os.cpu_count()} cores), ' + (
        f'{threads} thread(s)' if threads else 'default threads')


def _checkpoint_seed(path: str) -> Optional[int]:
    """The training seed saved in a tools/train.py checkpoint's meta."""
    if not path or not osp.isfile(path):
        return None
    from mmfactdiff.utils import load_checkpoint_file
    meta = load_checkpoint_file(path, map_location='cpu').get('meta') or {}
    seed = meta.get('seed')
    return int(seed) if isinstance(seed, int) else None


def rows_of_run(work_dir: str, args: argparse.Namespace) -> List[Dict]:
    """Rows of one run directory (training or test)."""
    metrics = args.metrics  # main(): METRICS with the --metric-name overrides
    cfg, source = load_run_config(work_dir)
    run_dirs = sorted(
        d for d in glob.glob(osp.join(work_dir, '*'))
        if osp.isdir(d) and re.fullmatch(r'\d{8}_\d{6}', osp.basename(d)))
    if not run_dirs:
        raise FileNotFoundError(f'{work_dir}: no <date>_<time> run folder')
    hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
    base = dict(
        dataset=args.dataset,
        method=args.method,
        config=source,
        cfg_options=config_changes(source, cfg),
        seed=cfg.get('randomness', {}).get('seed'),
        labels_used=args.labels_used,
        weights='ema' if 'EMAHook' in hooks else 'raw',
        run=osp.relpath(work_dir))
    for field in ('note', 'protocol', 'pretrained'):
        if getattr(args, field, None):
            base[field] = getattr(args, field)
    rows = []
    # a training run: validation metrics at every validation point
    for run_dir in run_dirs:
        scalars = osp.join(run_dir, 'vis_data', 'scalars.json')
        if not osp.isfile(scalars):
            continue
        times = []
        device = args.device or _device_from_log(run_dir)
        with open(scalars) as f:
            for line in f:
                rec = json.loads(line)
                if 'loss' in rec and 'time' in rec:
                    times.append(rec['time'])
                found = {k: v for k, v in rec.items() if k in metrics}
                for key, value in found.items():
                    rows.append(
                        dict(
                            base,
                            device=device,
                            metric=metrics[key],
                            value=value,
                            iterations=rec['step']))
        if times:
            for row in rows:
                row.setdefault('sec_per_iter',
                               round(sum(times) / len(times), 3))
    # a test run: the metrics JSON of tools/test.py
    if not rows:
        for run_dir in run_dirs:
            name = osp.join(run_dir, osp.basename(run_dir) + '.json')
            if not osp.isfile(name):
                continue
            with open(name) as f:
                rec = json.load(f)
            ckpt = cfg.get('load_from') or ''
            m = re.search(r'iter_(\d+)', osp.basename(ckpt))
            # the seed of the run that trained the checkpoint, not the
            # test run's
            seed = _checkpoint_seed(ckpt)
            if seed is not None:
                base['seed'] = seed
            device = args.device or _device_from_log(run_dir)
            for key, value in rec.items():
                if key in metrics:
                    rows.append(
                        dict(
                            base,
                            device=device,
                            metric=metrics[key],
                            value=value,
                            iterations=int(m.group(1)) if m else 0))
    if not rows:
        raise ValueError(f'{work_dir}: no validation or test metrics found')
    # a resumed run logs its points again: keep the last of each
    uniq = {}
    for row in rows:
        uniq[(row['metric'], row['iterations'])] = row
    return list(uniq.values())


PROBE_LINE = re.compile(
    r'^(?P<mode>\w+)(?: seed (?P<seed>\d+))? it (?P<it>\d+) loss \S+ '
    r'fgIoU@t30 (?P<iou>[\d.]+)')


def rows_of_probe_log(path: str, args: argparse.Namespace) -> List[Dict]:
    """Rows of a log printed by the reference probe script. Logs of its
    first revision print no seed: that revision fixed the seed at 0."""
    rows = []
    with open(path) as f:
        for line in f:
            m = PROBE_LINE.match(line)
            if not m:
                continue
            rows.append(
                dict(
                    dataset=args.dataset,
                    method=args.method,
                    config='factorized_probe.py (reference probe of the '
                    'method spec)',
                    cfg_options=dict(mask_mode=m.group('mode')),
                    seed=int(m.group('seed') or 0),
                    metric='fg_IoU',
                    value=round(float(m.group('iou')) * 100, 1),
                    iterations=int(m.group('it')),
                    labels_used=args.labels_used,
                    weights='raw',
                    device=args.device or 'CPU (unstated)',
                    run=osp.basename(path)))
    if not rows:
        raise ValueError(f'{path}: no probe output lines found')
    if args.note:
        for row in rows:
            row['note'] = args.note
    return rows


# one implementation of the row store, in the package (other projects'
# tools write rows too)
update_results = update_result_rows


def build_model(config: str):
    """The model (untrained) of ``config`` and the config, its
    ``custom_imports`` imported (e.g. the study's own modules)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.utils import import_modules_from_strings
    from mmseg.registry import MODELS

    import mmfactdiff  # noqa: F401 (registers the modules)
    if REPO not in sys.path:  # configs import projects.<name> from it
        sys.path.insert(0, REPO)
    cfg = Config.fromfile(config)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return MODELS.build(cfg.model), cfg


def build_model_and_train_data(config: str):
    """The model (untrained) and the training dataset of ``config``, for
    tools that score checkpoints of its runs on training images."""
    from mmseg.registry import DATASETS

    model, cfg = build_model(config)
    return model, DATASETS.build(cfg.train_dataloader.dataset)


def checkpoint_iteration(path: str) -> int:
    """The iteration of an ``iter_<n>.pth`` checkpoint.

    Raises:
        ValueError: Naming the file, if it is not named ``iter_<n>.pth``.
    """
    m = re.fullmatch(r'iter_(\d+)\.pth', osp.basename(path))
    if not m:
        raise ValueError(f'{path}: expected an iter_<n>.pth checkpoint')
    return int(m.group(1))


def recorded_checkpoints(work_dirs: List[str],
                         out: str) -> Iterator[Tuple[str, Dict, str]]:
    """``(run, row, checkpoint)`` for every ``iter_<n>.pth`` of each work
    directory, in iteration order.

    ``row`` is a template for a new result row of that checkpoint: the
    run's first ``fg_IoU`` row in ``out`` (method, config, seed, device,
    ...) at the checkpoint's iteration, without ``sec_per_iter``; the
    caller sets ``metric`` and ``value``. A run must be recorded first
    (``record_results.py``), so that the new rows pair with its scores.
    """
    with open(out) as f:
        known = [r for r in json.load(f) if r['metric'] == 'fg_IoU']
    for work_dir in work_dirs:
        run = osp.relpath(work_dir)  # as rows_of_run names runs
        base = [r for r in known if r.get('run') == run]
        if not base:
            raise ValueError(
                f'{work_dir}: no fg_IoU rows of this run in {out}: '
                'record the run first (record_results.py)')
        ckpts = sorted(
            glob.glob(osp.join(work_dir, 'iter_*.pth')),
            key=checkpoint_iteration)
        if not ckpts:
            raise FileNotFoundError(f'{work_dir}: no iter_<n>.pth')
        for ckpt in ckpts:
            row = dict(base[0], iterations=checkpoint_iteration(ckpt))
            row.pop('sec_per_iter', None)
            yield run, row, ckpt


def main(argv=None) -> None:
    args = parse_args(argv)
    args.metrics = metric_names(args.metric_name)
    new = []
    for work_dir in args.work_dirs:
        new += (
            rows_of_probe_log(work_dir, args)
            if args.probe_logs else rows_of_run(work_dir, args))
    total = update_results(args.out, new)
    print(f'{len(new)} rows from {len(args.work_dirs)} run(s) -> {args.out} '
          f'({total} rows)')


if __name__ == '__main__':
    main()
