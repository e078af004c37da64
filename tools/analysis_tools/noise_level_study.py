# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Segmentation quality against the noise level t of the read-out.

The model segments an image noised to ``model.test_cfg.t`` (paper: about
30 of 1000; its Fig. 18 sweeps t in 0..60 on CUB). This tool runs the
config's test split and evaluator (exactly what ``tools/test.py`` does:
same pipeline, metrics and EMA weights) once for every t given, and writes
to ``--out-dir``:

- ``noise_level_study.json``: config, checkpoint and every metric per t;
- ``noise_level_study.md``: the same as a markdown table, t per row;
- ``noise_level_study.png``: every metric against t (matplotlib).

    python tools/analysis_tools/noise_level_study.py CONFIG CHECKPOINT \
        --t 0 10 20 30 40 50 60 --out-dir work_dirs/noise_study \
        [--cfg-options k=v ...]
"""
import argparse
import json
import os
import os.path as osp
import uuid
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config, DictAction


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Segmentation metrics against the read-out noise '
        'level t')
    p.add_argument('config', help='config with a test split and evaluator')
    p.add_argument('checkpoint', help='checkpoint file')
    p.add_argument(
        '--t',
        type=int,
        nargs='+',
        default=[0, 10, 20, 30, 40, 50, 60],
        help='noise levels (default: 0 10 ... 60, as the paper)')
    p.add_argument('--out-dir', required=True, help='folder for the results')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, key=value pairs')
    return p.parse_args(argv)


def evaluate_at(cfg: Config, checkpoint: str, t: int,
                work_dir: str) -> Dict[str, float]:
    """Run the test split with ``model.test_cfg.t = t``; the metrics."""
    from mmengine.runner import Runner
    cfg = cfg.copy()
    cfg.model.setdefault('test_cfg', {})
    cfg.model.test_cfg.t = int(t)
    cfg.load_from = checkpoint
    cfg.work_dir = work_dir
    # one visualizer per runner: runners in one process share it by name
    cfg.visualizer.name = f'noise-level-{t}-{uuid.uuid4().hex[:8]}'
    cfg.default_hooks.visualization.draw = False
    metrics = Runner.from_cfg(cfg).test()
    return {
        k: float(v)
        for k, v in metrics.items() if isinstance(v, (int, float))
    }


def markdown_table(rows: List[dict], keys: List[str]) -> str:
    """t and the metrics, one row per t."""
    lines = [
        '| t | ' + ' | '.join(keys) + ' |', '| --- |' + ' --- |' * len(keys)
    ]
    for row in rows:
        values = [f'{row["metrics"].get(k, float("nan")):.2f}' for k in keys]
        lines.append(f'| {row["t"]} | ' + ' | '.join(values) + ' |')
    return '\n'.join(lines) + '\n'


def plot(rows: List[dict], keys: List[str], path: str,
         title: str) -> Optional[str]:
    """Every metric against t; returns the path, or None without
    matplotlib."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        print('matplotlib is not installed: no plot written')
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    ts = [row['t'] for row in rows]
    for key in keys:
        ax.plot(
            ts, [row['metrics'].get(key, float('nan')) for row in rows],
            marker='o',
            label=key)
    ax.set_xlabel('noise level t of the read-out')
    ax.set_ylabel('score (%)')
    ax.set_title(title, fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: Optional[Sequence[str]] = None) -> List[dict]:
    args = parse_args(argv)
    import mmfactdiff  # noqa: F401  (registers the modules)
    from mmfactdiff.utils import ensure_writable
    ensure_writable(args.out_dir, '--out-dir', folder=True)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if cfg.get('test_dataloader') is None or \
            cfg.get('test_evaluator') is None:
        raise ValueError(f'{args.config} has no test_dataloader / '
                         'test_evaluator to evaluate')
    if any(t < 0 for t in args.t):
        raise ValueError(f'--t values must be >= 0, got {args.t}')
    os.makedirs(args.out_dir, exist_ok=True)
    rows = []
    for t in args.t:
        metrics = evaluate_at(cfg, args.checkpoint, t,
                              osp.join(args.out_dir, f't{t:03d}'))
        print(f't={t}: {metrics}')
        rows.append(dict(t=t, metrics=metrics))
    keys = sorted({k for row in rows for k in row['metrics']})
    with open(osp.join(args.out_dir, 'noise_level_study.json'), 'w') as f:
        json.dump(
            dict(config=args.config, checkpoint=args.checkpoint, results=rows),
            f,
            indent=2)
    table = markdown_table(rows, keys)
    with open(osp.join(args.out_dir, 'noise_level_study.md'), 'w') as f:
        f.write(f'Segmentation against the read-out noise level t\n\n'
                f'config: `{args.config}`, checkpoint: `{args.checkpoint}`; '
                'protocols: the metrics of the config (see its log lines '
                'starting with `protocol:`)\n\n' + table)
    print(table)
    plot(rows, keys, osp.join(args.out_dir, 'noise_level_study.png'),
         osp.basename(args.config))
    return rows


if __name__ == '__main__':
    main()
