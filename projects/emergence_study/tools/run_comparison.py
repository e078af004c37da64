# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Run a list of test configs in one go and record them as comparable rows.

A manifest (JSON) names the methods to compare on one dataset; each is
scored by the standard ``tools/test.py`` (or, for the parameter-free
baselines, ``label_free_baselines.py``) in a process of its own with
``--resources``, so that every row of the comparison carries its metrics,
seconds per image and peak memory, measured in the same run of this tool
on the same machine:

    {"dataset": "synthetic_shapes",
     "runs": [
       {"method": "colour k-means", "baseline": "colour k-means",
        "config": "configs/factdiff/CONFIG.py",
        "pretrained": "none", "protocol": "per-image polarity rule"},
       {"method": "DDPM-seg (...)", "config": "projects/ddpm_seg/...py",
        "checkpoint": "work_dirs/.../iter_500.pth", "labels_used": 20,
        "metric_names": {"IoU_dataset_majority": "fg_IoU"},
        "cfg_options": ["key=value"],
        "pretrained": "none", "protocol": "..."}]}

Rows go to ``--out`` (default ``docs/data/results/<dataset>.json``) with the
fields ``protocol`` and ``pretrained`` added; ``make_tables.py``'s
``compare`` table shows them. A run whose checkpoint is missing is
reported and skipped (the others still run); the tool exits 1 if any run
was skipped or failed.

    python projects/emergence_study/tools/run_comparison.py \\
        docs/data/comparison/synthetic_shapes.json
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
from typing import Dict, List

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)
from record_results import rows_of_run  # noqa: E402
from record_results import REPO, metric_names, update_results

RUN_KEYS = {
    'method', 'config', 'checkpoint', 'baseline', 'labels_used',
    'metric_names', 'cfg_options', 'pretrained', 'protocol', 'note'
}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('manifest', help='JSON list of the runs to compare')
    p.add_argument(
        '--out',
        default=None,
        help='results JSON (default docs/data/results/<dataset>.json)')
    p.add_argument(
        '--work-dir',
        default=None,
        help='where the test runs write (default: a temporary folder)')
    p.add_argument(
        '--only', nargs='+', default=None, help='run only these methods')
    return p.parse_args(argv)


def load_manifest(path: str) -> Dict:
    """The manifest, checked: every run names a method, a config, and no
    unknown field."""
    with open(path) as f:
        manifest = json.load(f)
    if not isinstance(manifest, dict) or 'dataset' not in manifest \
            or not isinstance(manifest.get('runs'), list):
        raise ValueError(f'{path}: expected {{"dataset": ..., "runs": '
                         '[...]}}')
    for i, run in enumerate(manifest['runs']):
        unknown = set(run) - RUN_KEYS
        if unknown:
            raise ValueError(f'{path}: run {i} has unknown fields '
                             f'{sorted(unknown)} (known: {sorted(RUN_KEYS)})')
        for key in ('method', 'config'):
            if key not in run:
                raise ValueError(f'{path}: run {i} has no {key!r}')
    return manifest


def _command(run: Dict, work_dir: str, out: str, dataset: str) -> List[str]:
    if 'baseline' in run:
        cmd = [
            sys.executable,
            osp.join(HERE, 'label_free_baselines.py'), run['config'], '--only',
            run['baseline'], '--dataset', dataset, '--out', out, '--work-dir',
            work_dir, '--resources'
        ]
    else:
        cmd = [
            sys.executable,
            osp.join(REPO, 'tools', 'test.py'), run['config']
        ]
        if run.get('checkpoint'):
            cmd.append(run['checkpoint'])
        cmd += ['--work-dir', work_dir, '--resources']
    if run.get('cfg_options'):
        cmd += ['--cfg-options', *run['cfg_options']]
    return cmd


def _rows(run: Dict, work_dir: str, scratch: str, dataset: str) -> List:
    """The rows of a finished run, with the comparison's fields."""
    if 'baseline' in run:
        with open(scratch) as f:
            rows = json.load(f)
        for row in rows:
            row['method'] = run['method']
    else:
        names = dict(run.get('metric_names', {}))
        args = argparse.Namespace(
            dataset=dataset,
            method=run['method'],
            labels_used=run.get('labels_used', 0),
            device=None,
            note=run.get('note'),
            protocol=None,
            pretrained=None,
            metrics=metric_names([f'{k}={v}' for k, v in names.items()]))
        rows = rows_of_run(work_dir, args)
    for row in rows:
        row['protocol'] = run.get('protocol', '')
        row['pretrained'] = run.get('pretrained', 'none')
        row['labels_used'] = run.get('labels_used', 0)
    return rows


def main(argv=None) -> int:
    args = parse_args(argv)
    manifest = load_manifest(args.manifest)
    dataset = manifest['dataset']
    out = args.out or osp.join(REPO, 'docs', 'data', 'results',
                               f'{dataset}.json')
    root = args.work_dir or tempfile.mkdtemp(prefix='comparison_')
    failed = []
    for i, run in enumerate(manifest['runs']):
        if args.only and run['method'] not in args.only:
            continue
        ckpt = run.get('checkpoint')
        if ckpt and not osp.isfile(ckpt):
            print(f'skipped {run["method"]}: no checkpoint {ckpt}')
            failed.append(run['method'])
            continue
        work_dir = osp.join(root, f'{i:02d}')
        scratch = osp.join(root, f'{i:02d}_rows.json')
        cmd = _command(run, work_dir, scratch, dataset)
        print(f'[{i + 1}/{len(manifest["runs"])}] {run["method"]}')
        proc = subprocess.run(
            cmd,
            cwd=REPO,
            env=dict(os.environ),
            capture_output=True,
            text=True)
        if proc.returncode != 0:
            print(f'failed {run["method"]}:\n{proc.stderr[-2000:]}')
            failed.append(run['method'])
            continue
        rows = _rows(run, work_dir, scratch, dataset)
        total = update_results(out, rows)
        shown = {r['metric']: round(r['value'], 3) for r in rows}
        print(f'  {shown} -> {out} ({total} rows)')
    if failed:
        print(f'{len(failed)} run(s) skipped or failed: {failed}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
