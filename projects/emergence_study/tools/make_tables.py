# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Generate the results tables of Markdown pages from the result rows.

A page marks each table with a spec in an HTML comment, and this tool
rewrites the lines between the spec and its end marker from the rows of
``docs/data/results/<dataset>.json`` (``record_results.py``):

    <!-- results {"dataset": "simple_shapes", "table": "seeds",
                  "metric": "fg_IoU", "rows": [
                    {"method": "colour k-means"},
                    {"method": "factorized (probe config)",
                     "iterations": 1000}]} -->
    | generated ... |
    <!-- /results -->

Table kinds:

- ``seeds``: one line per spec row: the value of every seed, then the mean
  and standard deviation over seeds (baselines without a seed: one value);
  a row may select by ``method``, ``config``, ``iterations``, ``weights``,
  ``device`` (each a value or a list of accepted values), ``cfg_options``
  (a dict that must match exactly) and name itself with ``label``;
- ``curve``: one line per method and seed, one column per iteration in the
  spec's ``iterations`` list; or, with ``"column": "t"`` and ``"values"``,
  one column per value of the rows' field ``t`` (rows measured at one
  noise level, ``mask_gain_by_t.py``), the spec rows then selecting by
  ``iterations`` too;
- ``signal``: checkpoints binned by a label-free ``signal`` metric (spec
  ``"signal"``, bin edges ``"bins"``), with the range of ``metric`` in each
  bin: how well the signal predicts the score;
- ``compare``: one line per spec row (each names its own ``metric``), from
  the rows that ``run_comparison.py`` measured (those with a ``protocol``):
  labelled images, pretrained weights, protocol, the metric's mean over
  the runs, and the same runs' seconds per image and peak memory.

``seeds`` specs may add ``"verdict": {"baseline": METHOD, "reference":
LABEL}``: each line then counts the seeds above the baseline and compares
its mean with the reference line's, by a rule stated under the table;
``"labels": true`` adds the rows' ``labels_used`` as a column (tables that
put label-using methods beside label-free ones).

    python projects/emergence_study/tools/make_tables.py docs/emergence.md
    python projects/emergence_study/tools/make_tables.py --check docs/*.md
"""
import argparse
import json
import os.path as osp
import re
import statistics
import sys
from typing import Dict, List, Optional

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(osp.dirname(HERE)))
RESULTS = osp.join(REPO, 'docs', 'data', 'results')
SPEC = re.compile(r'<!-- results (\{.*?\}) -->\n(.*?)<!-- /results -->', re.S)
SELECT_KEYS = ('method', 'config', 'iterations', 'weights', 'cfg_options',
               'device')


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('pages', nargs='+', help='Markdown files to update')
    p.add_argument(
        '--results',
        default=RESULTS,
        help='folder of <dataset>.json row files')
    p.add_argument(
        '--check',
        action='store_true',
        help='change nothing; exit 1 if a page is out of date')
    return p.parse_args(argv)


def load_rows(folder: str, dataset: str) -> List[Dict]:
    path = osp.join(folder, f'{dataset}.json')
    if not osp.isfile(path):
        raise FileNotFoundError(f'no result rows for {dataset!r}: {path}')
    with open(path) as f:
        return json.load(f)


def select(rows: List[Dict], metric: str, spec: Dict) -> List[Dict]:
    """Rows of ``metric`` that match every selector of ``spec``."""
    out = [r for r in rows if r['metric'] == metric]
    for key in SELECT_KEYS:
        if key in spec:
            # a list (except for the cfg_options dict) means any of them:
            # one setting measured under two configs or labels
            choices = (
                spec[key] if isinstance(spec[key], list) else [spec[key]])
            want = {json.dumps(c, sort_keys=True) for c in choices}
            out = [
                r for r in out
                if json.dumps(r.get(key), sort_keys=True) in want
            ]
    return out


def _fmt(v: Optional[float]) -> str:
    return '-' if v is None else f'{v:.1f}'


def _by_seed(rows: List[Dict], where: str) -> Dict:
    seeds: Dict = {}
    for r in rows:
        if r['seed'] in seeds:
            raise ValueError(f'{where}: two rows for seed {r["seed"]} '
                             '(select by iterations, config or cfg_options)')
        seeds[r['seed']] = r['value']
    return seeds


def seeds_table(rows: List[Dict], spec: Dict) -> str:
    metric = spec['metric']
    lines, stats = [], {}
    all_seeds = sorted({
        r['seed']
        for row in spec['rows']
        for r in select(rows, metric, row) if r['seed'] is not None
    })
    verdict = spec.get('verdict')
    show_labels = spec.get('labels', False)
    head = ['method'] + (['labelled images'] if show_labels else []) + [
        'iterations'
    ] + [f'seed {s}' for s in all_seeds] + ['mean', 'sd'] + (
        ['above ' + verdict['baseline'], 'verdict'] if verdict else [])
    for row in spec['rows']:
        label = row.get('label', row.get('method'))
        got = select(rows, metric, row)
        if not got:
            raise ValueError(f'no {metric} rows for {row}')
        seeds = _by_seed(got, label)
        vals = list(seeds.values())
        iters = sorted({r['iterations'] for r in got})
        mean = statistics.mean(vals)
        sd = statistics.stdev(vals) if len(vals) > 1 else None
        stats[label] = (seeds, mean)
        cells = [label]
        if show_labels:
            cells.append('/'.join(
                str(n) for n in sorted({r['labels_used']
                                        for r in got})))
        cells.append('/'.join(map(str, iters)))
        if None in seeds:
            cells += [''] * len(all_seeds) + [_fmt(mean), '']
        else:
            cells += [_fmt(seeds.get(s)) for s in all_seeds]
            cells += [_fmt(mean), _fmt(sd)]
        lines.append(cells)
    if verdict:
        base = stats[verdict['baseline']][1]
        ref = stats[verdict['reference']][1] if verdict.get(
            'reference') else None
        for cells, row in zip(lines, spec['rows']):
            label = row.get('label', row.get('method'))
            seeds, mean = stats[label]
            if None in seeds:
                cells += ['', '']
                continue
            above = sum(v > base for v in seeds.values())
            cells.append(f'{above}/{len(seeds)}')
            cells.append(
                _verdict(above, len(seeds), mean, ref,
                         verdict.get('tolerance', 10.0)))
    out = [
        '| ' + ' | '.join(head) + ' |',
        '| ' + ' | '.join(['---'] * len(head)) + ' |'
    ]
    out += ['| ' + ' | '.join(c) + ' |' for c in lines]
    if verdict:
        out.append('')
        out.append(
            f'Verdict rule: "emerges" when every seed is above '
            f'{verdict["baseline"]}, "fails" when none is, "mixed" '
            'otherwise; "hurts" / "helps" when the mean is more than '
            f'{verdict.get("tolerance", 10.0):g} points below / above the '
            'reference line\'s.')
    return '\n'.join(out) + '\n'


def _verdict(above: int, n: int, mean: float, ref: Optional[float],
             tol: float) -> str:
    word = 'emerges' if above == n else 'fails' if above == 0 else 'mixed'
    if ref is not None:
        if mean < ref - tol:
            word += ', hurts'
        elif mean > ref + tol:
            word += ', helps'
    return word


def curve_table(rows: List[Dict], spec: Dict) -> str:
    metric, column = spec['metric'], spec.get('column', 'iterations')
    if column not in ('iterations', 't'):
        raise ValueError(f'curve column must be "iterations" or "t", '
                         f'got {column!r}')
    values = spec['iterations'] if column == 'iterations' else spec['values']
    head = ['method', 'seed'] + [
        str(v) if column == 'iterations' else f't = {v}' for v in values
    ]
    out = [
        '| ' + ' | '.join(head) + ' |',
        '| ' + ' | '.join(['---'] * len(head)) + ' |'
    ]
    for row in spec['rows']:
        label = row.get('label', row.get('method'))
        got = select(rows, metric, {
            k: v
            for k, v in row.items() if k != column
        })
        for seed in sorted({r['seed']
                            for r in got},
                           key=lambda s: -1 if s is None else s):
            at = {r.get(column): r['value'] for r in got if r['seed'] == seed}
            out.append('| ' +
                       ' | '.join([label, '-' if seed is None else str(seed)] +
                                  [_fmt(at.get(v)) for v in values]) + ' |')
    return '\n'.join(out) + '\n'


def signal_table(rows: List[Dict], spec: Dict) -> str:
    """Checkpoints binned by a label-free signal, with the score range of
    each bin: pairs the ``signal`` row and the ``metric`` row of the same
    run and iteration, for runs selected by the spec's rows."""
    metric, signal, bins = spec['metric'], spec['signal'], spec['bins']
    pairs = []
    for row in spec['rows']:
        scores = {
            (r['run'], r['iterations']): r['value']
            for r in select(rows, metric, row) if r.get('run')
        }
        for r in select(rows, signal, row):
            key = (r.get('run'), r['iterations'])
            if key in scores:
                pairs.append((r['value'], scores[key]))
    if not pairs:
        raise ValueError(f'no ({signal}, {metric}) pairs for {spec["rows"]}')
    head = [f'{signal} (%)', 'checkpoints', f'{metric} min', 'median', 'max']
    out = [
        '| ' + ' | '.join(head) + ' |',
        '| ' + ' | '.join(['---'] * len(head)) + ' |'
    ]
    for lo, hi in zip(bins[:-1], bins[1:]):
        got = [m for s, m in pairs if lo <= s < hi]
        cells = [f'[{lo}, {hi})', str(len(got))] + (
            [_fmt(min(got)),
             _fmt(statistics.median(got)),
             _fmt(max(got))] if got else ['-'] * 3)
        out.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(out) + '\n'


def compare_table(rows: List[Dict], spec: Dict) -> str:
    """Methods side by side with their cost, all from comparison runs."""
    head = [
        'method', 'labelled images', 'pretrained', 'protocol', 'metric',
        'value', 'runs', 's / image', 'peak RSS (GB)'
    ]
    out = [
        '| ' + ' | '.join(head) + ' |',
        '| ' + ' | '.join(['---'] * len(head)) + ' |'
    ]
    devices = set()
    for row in spec['rows']:
        label = row.get('label', row.get('method'))
        where = {k: v for k, v in row.items() if k not in ('metric', 'label')}
        got = [
            r for r in select(rows, row['metric'], where) if 'protocol' in r
        ]
        if not got:
            raise ValueError(f'no comparison rows of {row["metric"]} for '
                             f'{label} (run run_comparison.py)')
        runs = {r['run'] for r in got}

        def cost(metric):
            return [
                r['value'] for r in select(rows, metric, where)
                if r.get('run') in runs
            ]

        secs, peaks = cost('sec_per_img'), cost('peak_rss_GB')
        devices.update(r['device'] for r in got)
        out.append('| ' + ' | '.join([
            label,
            str(got[0]['labels_used']), got[0].get(
                'pretrained', ''), got[0]['protocol'], row['metric'],
            _fmt(statistics.mean(r['value'] for r in got)),
            str(len(runs)), f'{statistics.mean(secs):.3f}' if secs else '-',
            f'{max(peaks):.2f}' if peaks else '-'
        ]) + ' |')
    out.append('')
    out.append('Measured on: ' + '; '.join(sorted(devices)) + '.')
    return '\n'.join(out) + '\n'


TABLES = dict(
    seeds=seeds_table,
    curve=curve_table,
    signal=signal_table,
    compare=compare_table)


def render_page(text: str, folder: str) -> str:

    def fill(m: re.Match) -> str:
        spec = json.loads(m.group(1))
        if spec.get('table') not in TABLES:
            raise ValueError(f'unknown table kind in {m.group(1)[:80]}')
        rows = load_rows(folder, spec['dataset'])
        body = TABLES[spec['table']](rows, spec)
        return f'<!-- results {m.group(1)} -->\n{body}<!-- /results -->'

    return SPEC.sub(fill, text)


def main(argv=None) -> int:
    args = parse_args(argv)
    stale = []
    for page in args.pages:
        with open(page) as f:
            text = f.read()
        new = render_page(text, args.results)
        if new != text:
            stale.append(page)
            if not args.check:
                with open(page, 'w') as f:
                    f.write(new)
    verb = 'out of date' if args.check else 'updated'
    for page in stale:
        print(f'{verb}: {page}')
    return 1 if args.check and stale else 0


if __name__ == '__main__':
    sys.exit(main())
