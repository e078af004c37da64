# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Summarise emergence_curve.py results: a markdown table and a plot.

    python tools/analysis_tools/summarize_emergence.py \
        work_dirs/emergence/*.json --plot docs/figures/emergence.png

Runs are grouped by variant (``plain`` K=1 U-Net + k-means, or the mask
sampling mode and any --cfg-options); each table row is one run (seed),
each column a training length, each cell the foreground IoU of the EMA
weights (raw weights in brackets). A run "collapsed" when, at its last
evaluation, one region's usage on the held-out images was below 2%. A seed
counts once per variant: of two files with the same variant and seed (a
run repeated for longer), the longer one is used and the other is named.

A second table summarises each variant over its seeds at every training
length: the number of seeds, mean and standard deviation, min and max, how
many seeds reached ``--target`` and how many beat per-image colour k-means
(scored on the same images by each run), and the collapse rate: the share
of seeds whose masks collapsed (one region below 2% usage) at ANY
evaluation, not only the last.
"""
import argparse
import json
import os
import os.path as osp
from collections import defaultdict

import numpy as np

from mmfactdiff.datasets.synthetic_shapes_dataset import DIFFICULTY_ARGS


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('results', nargs='+', help='JSON files')
    p.add_argument('--plot', help='PNG file for the curves')
    p.add_argument('--metric', default='fg_iou', choices=['fg_iou', 'miou'])
    p.add_argument('--target', type=float, default=0.8,
                   help='score counted as reaching the target')
    return p.parse_args(argv)


def collapsed_at(run: dict, min_usage: float = 0.02):
    """First evaluated iteration at which a region's EMA usage fell below
    ``min_usage``, or None."""
    for pt in run['curve']:
        usage = pt['ema'].get('usage')
        if usage and min(usage) < min_usage:
            return pt['iter']
    return None


def summarize(groups: dict, iters: list, metric: str,
              target: float) -> dict:
    """Per variant and training length: seed statistics (see module doc)."""
    out = {}
    for name, rs in groups.items():
        collapses = [collapsed_at(r) for r in rs]
        rows = {}
        for i in iters:
            pts = [(r, pt) for r in rs for pt in r['curve'] if pt['iter'] == i]
            if not pts:
                continue
            vals = np.array([pt['ema'][metric] for _, pt in pts])
            kmeans = np.array([
                r['baselines'][f'colour_kmeans_{metric}'] for r, _ in pts
            ])
            rows[i] = dict(
                n=len(vals),
                mean=float(vals.mean()),
                std=float(vals.std()),
                min=float(vals.min()),
                max=float(vals.max()),
                reached_target=int((vals >= target).sum()),
                beat_colour_kmeans=int((vals > kmeans).sum()))
        has_usage = any(pt['ema'].get('usage') for r in rs for pt in r['curve'])
        out[name] = dict(
            seeds=sorted(r['seed'] for r in rs),
            # None: no region usage recorded (the plain K=1 U-Net)
            collapse_rate=(sum(c is not None for c in collapses) / len(rs)
                           if has_usage else None),
            by_iter=rows)
    return out


def variant(res: dict) -> str:
    if res.get('plain'):
        return 'plain U-Net (K=1) + per-image k-means'
    opts = dict(res.get('cfg_options') or {})
    opts.pop('model.decode_head.mask_sampling', None)
    # the Gumbel block size, from a cfg-option or the run's own record
    # (run files before the record name it only when a cfg-option set it)
    stride = opts.pop('model.decode_head.gumbel_noise_stride',
                      res.get('gumbel_noise_stride'))
    if res['mask_sampling'] != 'gumbel':
        stride = None
    names = [f'gumbel_noise_stride={stride}'] if stride is not None else []
    for r in res.get('remedies') or []:
        if r.startswith('TauScheduleHook(') and 'end_iter' not in r:
            # the schedule spans the run: name its length
            iters = res.get('iters') or res['curve'][-1]['iter']
            r = f'{r[:-1]}, over {iters} iterations)'
        names.append(r)
    for k, v in opts.items():
        if '_dataloader.' in k:
            sub = k.split('.dataset.', 1)[-1]
            # the data's own options are named from the run's ``data``
            # record; others (a pipeline step) by their path
            if sub not in DIFFICULTY_ARGS and k.startswith('train_'):
                names.append(f'{sub}={v}')
        else:
            name = f'{k.split(".")[-1]}={v}'
            if name not in names:  # set by a cfg-option and the config
                names.append(name)
    extra = ', '.join(names)
    name = res['mask_sampling'] + (f' ({extra})' if extra else '')
    data = data_name(res)
    return f'{name}, {data}' if data else name


def data_name(res: dict) -> str:
    """How a run's training data differs from the built-in data ('' for
    the built-in data and for run files that predate the record)."""
    data = res.get('data') or []
    return f"data: {', '.join(data)}" if data else ''


def dedupe_seeds(runs: list) -> list:
    """One run per seed of a variant, so no seed counts twice in a mean.

    ``runs`` is a list of ``(path, run)`` of one variant. Where two files
    hold the same seed (a run repeated for longer), the one that ran more
    iterations is kept, and the other is named on stdout; two of the same
    length are ambiguous and raise a ValueError naming both files.
    """
    kept = {}
    for path, run in runs:
        seed = run['seed']
        if seed not in kept:
            kept[seed] = (path, run)
            continue
        other_path, other = kept[seed]
        length = run['curve'][-1]['iter'] if run['curve'] else 0
        other_length = other['curve'][-1]['iter'] if other['curve'] else 0
        if length == other_length:
            raise ValueError(
                f'{other_path} and {path} are the same variant and seed '
                f'({seed}) run for the same length: pass one of them')
        if length > other_length:
            kept[seed] = (path, run)
        dropped = path if length < other_length else other_path
        print(f'note: left out {dropped}: the same variant and seed as '
              f'{kept[seed][0]}, which ran longer')
    return [run for _, run in kept.values()]


def main(argv=None) -> None:
    args = parse_args(argv)
    runs = []
    for path in args.results:
        with open(path) as f:
            run = json.load(f)
        if any(args.metric not in pt['ema'] for pt in run['curve']):
            # fg_iou (polarity rule) exists for K = 2 only
            print(f'note: left out {path}: it records no {args.metric} '
                  f"(K = {run.get('num_regions', '?')})")
            continue
        runs.append((path, run))
    groups = defaultdict(list)
    for path, run in runs:
        groups[variant(run)].append((path, run))
    groups = {name: dedupe_seeds(rs) for name, rs in groups.items()}
    kept = {id(r) for rs in groups.values() for r in rs}
    runs = [run for _, run in runs if id(run) in kept]  # in file order
    iters = sorted({pt['iter'] for r in runs for pt in r['curve']})
    m = args.metric
    print(f'Metric: {m} on held-out images (EMA weights; raw in '
          'brackets).\n')
    print('| variant | seed | ' + ' | '.join(str(i) for i in iters) +
          ' | collapsed |')
    print('| --- | --- | ' + ' | '.join('---' for _ in iters) + ' | --- |')
    summary = {}
    for name, rs in sorted(groups.items()):
        for r in sorted(rs, key=lambda r: r['seed']):
            by_iter = {pt['iter']: pt for pt in r['curve']}
            cells = []
            for i in iters:
                pt = by_iter.get(i)
                cells.append('-' if pt is None else
                             f"{pt['ema'][m]:.3f} ({pt['raw'][m]:.3f})")
            last = r['curve'][-1] if r['curve'] else None
            usage = last and last['ema'].get('usage')
            collapsed = ('-' if not usage else
                         ('yes' if min(usage) < 0.02 else 'no'))
            print(f"| {name} | {r['seed']} | " + ' | '.join(cells) +
                  f' | {collapsed} |')
        summary[name] = {
            i: [
                pt['ema'][m] for r in rs for pt in r['curve']
                if pt['iter'] == i
            ]
            for i in iters
        }
    stats = summarize(groups, iters, m, args.target)
    print(f'\nOver seeds (EMA {m}; mean +- std [min, max]; seeds reaching '
          f'{args.target} / beating colour k-means):\n')
    print('| variant | seeds | collapse rate | ' +
          ' | '.join(str(i) for i in iters) + ' |')
    print('| --- | --- | --- | ' + ' | '.join('---' for _ in iters) + ' |')
    for name, st in sorted(stats.items()):
        cells = []
        for i in iters:
            row = st['by_iter'].get(i)
            cells.append('-' if row is None else (
                f"{row['mean']:.3f} +- {row['std']:.3f} "
                f"[{row['min']:.2f}, {row['max']:.2f}] "
                f"{row['reached_target']}/{row['n']}, "
                f"{row['beat_colour_kmeans']}/{row['n']}"))
        rate = ('-' if st['collapse_rate'] is None else
                f"{st['collapse_rate']:.0%}")
        print(f"| {name} | {len(st['seeds'])} | {rate} | " +
              ' | '.join(cells) + ' |')
    # baselines are per image set: one line for each training data
    by_data = defaultdict(list)
    for r in runs:
        by_data[data_name(r)].append(r)
    for data, rs in sorted(by_data.items()):
        base = rs[0]['baselines']
        kmeans = [r['baselines']['colour_kmeans_fg_iou'] for r in rs]
        print(f"\nBaselines on the same images{' (' + data + ')' if data else ''}"
              f": all-foreground {base['all_foreground_fg_iou']:.3f} fg IoU; "
              f'per-image colour k-means {np.mean(kmeans):.3f} fg IoU (mean '
              f"over the runs' k-means seeds, {min(kmeans):.3f} to "
              f"{max(kmeans):.3f}), {base['colour_kmeans_miou']:.3f} mIoU.")
    # the plot draws the baselines of one image set: the built-in one when
    # it is there
    plot_data = sorted(by_data)[0]
    base = by_data[plot_data][0]['baselines']
    base_note = (f' ({plot_data or "built-in data"})'
                 if len(by_data) > 1 or plot_data else '')
    print(f"Machine: {runs[0]['machine']}; seconds per iteration: " +
          ', '.join(f"{variant(r)} s{r['seed']}: {r.get('sec_per_iter')}"
                    for r in runs))
    if args.plot:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7.5, 6.5))
        colours = plt.get_cmap('tab20' if len(summary) > 10 else 'tab10')
        for n, (name, by_iter) in enumerate(summary.items()):
            # one colour a variant: thin lines per seed, thick for the mean
            c = colours(n % colours.N)
            xs = [i for i in iters if by_iter[i]]
            for r in groups[name]:
                ax.plot([pt['iter'] for pt in r['curve']],
                        [pt['ema'][m] for pt in r['curve']],
                        color=c, alpha=0.3, lw=1)
            ax.plot(xs, [np.mean(by_iter[i]) for i in xs], color=c, lw=2.5,
                    label=f'{name} (mean of {len(groups[name])})')
        ax.axhline(base['all_foreground_fg_iou'], color='k', ls=':',
                   label='all-foreground' + base_note)
        ax.axhline(base['colour_kmeans_fg_iou'], color='gray', ls='--',
                   label='colour k-means' + base_note)
        ax.set_xlabel('training iterations (batch 32)')
        ax.set_ylabel('foreground IoU (held-out)')
        ax.set_ylim(0, 1)
        # below the axes: the variant names are long
        ax.legend(fontsize=7, loc='upper center', bbox_to_anchor=(0.5, -0.12),
                  ncol=1, frameon=False)
        ax.grid(alpha=0.3)
        os.makedirs(osp.dirname(osp.abspath(args.plot)), exist_ok=True)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f'\nplot: {args.plot}')


if __name__ == '__main__':
    main()
