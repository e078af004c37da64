# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Record the collapse guard's label-free signal at every checkpoint of runs.

For every ``iter_<n>.pth`` of each work directory, the model reads out the
regions of the first ``--num-images`` *training* images (pixels only, no
labels) and the mean smallest-region share is written as a result row
(metric ``min_region_share``, in percent of pixels), the number that the
collapse guard watched during training (a rollback hook that measured no
better than training without it and was removed after commit 5cb5e14;
docs/emergence.md, section 5). The row copies method,
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
from typing import Dict, List, Sequence

import torch
from torch import Tensor

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)
from record_results import (build_model_and_train_data, recorded_checkpoints,
                            update_results)

METRIC = 'min_region_share'


def smallest_region_share(probs: Tensor) -> Tensor:
    """Per image, the pixel share of its smallest region under argmax.

    Args:
        probs (Tensor): Region probabilities (B, K, H, W).

    Returns:
        Tensor: (B, ) shares in [0, 1 / K]; 0 when an image's pixels all go
        to fewer than K regions.
    """
    labels = probs.argmax(dim=1)
    shares = torch.stack([(labels == k).float().mean(dim=(1, 2))
                          for k in range(probs.shape[1])],
                         dim=1)
    return shares.min(dim=1).values


def mean_smallest_region_share(model, images: Sequence[Tensor]) -> float:
    """The collapse signal: mean smallest-region share of images' read-out.

    Args:
        model: A segmentor with ``data_preprocessor`` and
            ``predict_regions`` (the one-pass read-out at ``test_cfg.t``).
        images (Sequence[Tensor]): Images as the dataset packs them
            (C, H, W), before preprocessing.

    Returns:
        float: The mean over images of :func:`smallest_region_share`. The
        model is read in eval mode and left in the mode it was in.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            data = model.data_preprocessor(dict(inputs=list(images)), False)
            probs = model.predict_regions(data['inputs'])
    finally:
        model.train(was_training)
    return float(smallest_region_share(probs).mean())


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
    from mmengine.runner import load_checkpoint

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
