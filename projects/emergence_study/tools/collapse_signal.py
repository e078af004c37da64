# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Record the collapse guard's label-free signal at every checkpoint of runs.

For every ``iter_<n>.pth`` of each work directory, the model reads out the
regions of the first ``--num-images`` *training* images (pixels only, no
labels) and the mean smallest-region share is written as a result row
(metric ``min_region_share``, in percent of pixels), the number that
``CollapseGuardHook`` watches during training. The row copies method,
config, seed and device from the run's ``fg_IoU`` rows in ``--out``, so a
table can pair the signal with the score it is meant to predict
(``make_tables.py``, table kind ``signal``).

    python projects/emergence_study/tools/collapse_signal.py \\
        work_dirs/study/main-s3 work_dirs/study/main-s4 \\
        --config configs/factdiff/factdiff_unet-probe-k2_1xb32-1k_synthetic-32x32.py \\
        --out docs/data/results/synthetic_shapes.json
"""
import argparse
import glob
import os.path as osp
import re
import sys
from typing import Dict, List

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)
from record_results import REPO, update_results  # noqa: E402

METRIC = 'min_region_share'


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('work_dirs', nargs='+', help='work directories of runs')
    p.add_argument(
        '--config',
        required=True,
        help='config that builds the runs\' model and training data (the '
        'same architecture as the runs\')')
    p.add_argument('--out', required=True, help='results JSON to update')
    p.add_argument(
        '--num-images',
        type=int,
        default=64,
        help='training images read out (default 64, as the hook)')
    return p.parse_args(argv)


def _iteration(path: str) -> int:
    return int(re.fullmatch(r'iter_(\d+)\.pth', osp.basename(path)).group(1))


def main(argv=None) -> List[Dict]:
    args = parse_args(argv)
    import json
    if REPO not in sys.path:  # the study's package is imported from it
        sys.path.insert(0, REPO)

    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmseg.registry import DATASETS, MODELS

    import mmfactdiff  # noqa: F401 (registers the modules)
    from projects.emergence_study.emergence_study import \
        mean_smallest_region_share

    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    data_cfg = cfg.train_dataloader.dataset
    dataset = DATASETS.build(data_cfg)
    images = [
        dataset[i]['inputs']
        for i in range(min(args.num_images, len(dataset)))
    ]
    model = MODELS.build(cfg.model)
    with open(args.out) as f:
        known = [r for r in json.load(f) if r['metric'] == 'fg_IoU']
    new = []
    for work_dir in args.work_dirs:
        run = osp.relpath(work_dir)  # as record_results.py names runs
        base = [r for r in known if r.get('run') == run]
        if not base:
            raise ValueError(
                f'{work_dir}: no fg_IoU rows of this run in {args.out}: '
                'record the run first (record_results.py)')
        ckpts = sorted(
            glob.glob(osp.join(work_dir, 'iter_*.pth')), key=_iteration)
        if not ckpts:
            raise FileNotFoundError(f'{work_dir}: no iter_<n>.pth')
        for ckpt in ckpts:
            load_checkpoint(model, ckpt, map_location='cpu', strict=True)
            share = mean_smallest_region_share(model, images)
            row = dict(
                base[0],
                metric=METRIC,
                value=round(100 * share, 1),
                iterations=_iteration(ckpt))
            row.pop('sec_per_iter', None)
            new.append(row)
            print(f'{run} {row["iterations"]}: {row["value"]:.1f}%')
    total = update_results(args.out, new)
    print(f'{len(new)} rows -> {args.out} ({total} rows)')
    return new


if __name__ == '__main__':
    main()
