# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Label-free reference points for DAVIS 2017 J&F and foreground IoU.

Scores two trivial "models" with the same metrics and protocol as a
trained config (DAVISMetric unsupervised, ForegroundIoUMetric), so the
model's numbers in docs/davis2017.md have something to stand beside:

- ``all_foreground``: one proposal covering the whole frame;
- ``colour_kmeans``: per-frame k-means (K clusters) on RGB at the model's
  input size, upsampled (nearest) to the annotation size. Cluster ids are
  made persistent over a video without labels by ordering the clusters by
  mean luminance (cluster 0 the darkest), since the unsupervised protocol
  scores proposal k over all frames of a video.

    python projects/emergence_study/tools/davis_baselines.py data/DAVIS \\
        --size 112 64 --out work_dirs/davis_baselines.json
"""
import argparse
import json
from typing import Callable, Dict, Sequence

import numpy as np
import torch
from PIL import Image
from scipy.cluster.vq import kmeans2


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('data_root', help='DAVIS tree (official layout)')
    p.add_argument('--split', default='val')
    p.add_argument('--img-suffix', default='.jpg', help='frame suffix')
    p.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=(112, 64),
        metavar=('W', 'H'),
        help='resolution the k-means works at (the model input)')
    p.add_argument('--k', type=int, default=2, help='k-means clusters')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', help='JSON file for the scores')
    return p.parse_args(argv)


def colour_kmeans(img_rgb: np.ndarray, size: Sequence[int], k: int,
                  seed: int) -> np.ndarray:
    """Region ids at the image's size, ordered by mean luminance."""
    h, w = img_rgb.shape[:2]
    small = np.asarray(
        Image.fromarray(img_rgb).resize(tuple(size), Image.BILINEAR),
        dtype=np.float64) / 255.
    pixels = small.reshape(-1, 3)
    centres, labels = kmeans2(pixels, k, minit='++', seed=seed)
    order = np.argsort(centres @ np.array([0.299, 0.587, 0.114]))
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    regions = rank[labels].reshape(small.shape[:2]).astype(np.uint8)
    return np.asarray(Image.fromarray(regions).resize((w, h), Image.NEAREST))


def score(data_root: str,
          split: str,
          predictors: Dict[str, Callable],
          img_suffix: str = '.jpg') -> Dict[str, Dict[str, float]]:
    """Run DAVISMetric and ForegroundIoUMetric on ``predict(img)`` of every
    predictor, reading each frame and mask once.

    Returns:
        dict: The metrics of each predictor, by name.
    """
    from mmfactdiff.datasets import DAVIS2017Dataset
    from mmfactdiff.evaluation.metrics import (DAVISMetric,
                                               ForegroundIoUMetric)
    dataset = DAVIS2017Dataset(
        data_root=data_root,
        split=split,
        img_suffix=img_suffix,
        pipeline=[],
        lazy_init=False)
    metrics = {
        name: [DAVISMetric(task='unsupervised'),
               ForegroundIoUMetric()]
        for name in predictors
    }
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        img = np.asarray(Image.open(info['img_path']).convert('RGB'))
        gt = np.asarray(Image.open(info['seg_map_path']))
        gt_sem_seg = dict(data=torch.from_numpy(gt.astype(np.int64))[None])
        for name, predict in predictors.items():
            sample = dict(
                pred_sem_seg=dict(
                    data=torch.from_numpy(predict(img).astype(np.int64))
                    [None]),
                gt_sem_seg=gt_sem_seg,
                img_path=info['img_path'],
                sequence=info['sequence'],
                frame_index=info['frame_index'],
                num_frames=info['num_frames'])
            for metric in metrics[name]:
                metric.process({}, [sample])
    out = {}
    for name, group in metrics.items():
        out[name] = {}
        for metric in group:
            out[name].update(metric.evaluate(len(dataset)))
    return out


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.out:
        from mmfactdiff.utils import ensure_writable
        ensure_writable(args.out, '--out')
    predictors = dict(
        all_foreground=lambda img: np.ones(img.shape[:2], dtype=np.uint8),
        colour_kmeans=lambda img: colour_kmeans(img, args.size, args.k, args.
                                                seed))
    results = dict(
        data_root=args.data_root,
        split=args.split,
        size=list(args.size),
        **score(args.data_root, args.split, predictors, args.img_suffix))
    print(json.dumps(results, indent=1))
    if args.out:
        from mmfactdiff.utils import dump_json_atomic
        dump_json_atomic(results, args.out)


if __name__ == '__main__':
    main()
