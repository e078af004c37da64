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

    CFG=configs/factdiff/factdiff_unet-probe-k2_1xb32-1k_synthetic-32x32.py
    python projects/emergence_study/tools/collapse_signal.py \\
        work_dirs/study/main-s3 work_dirs/study/main-s4 --config $CFG \\
        --out docs/data/results/synthetic_shapes.json
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)
from record_results import (REPO, build_model_and_train_data,
                            recorded_checkpoints, update_results)

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


def main(argv=None) -> List[Dict]:
    args = parse_args(argv)
    if REPO not in sys.path:  # the study's package is imported from it
        sys.path.insert(0, REPO)
    from mmengine.runner import load_checkpoint

    from projects.emergence_study.emergence_study import \
        mean_smallest_region_share

    model, dataset = build_model_and_train_data(args.config)
    images = [
        dataset[i]['inputs']
        for i in range(min(args.num_images, len(dataset)))
    ]
    new = []
    for run, row, ckpt in recorded_checkpoints(args.work_dirs, args.out):
        load_checkpoint(model, ckpt, map_location='cpu', strict=True)
        share = mean_smallest_region_share(model, images)
        new.append(dict(row, metric=METRIC, value=round(100 * share, 1)))
        print(f'{run} {row["iterations"]}: {new[-1]["value"]:.1f}%')
    total = update_results(args.out, new)
    print(f'{len(new)} rows -> {args.out} ({total} rows)')
    return new


if __name__ == '__main__':
    main()
