# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Unpack Downsampled ImageNet 64x64 into class folders of PNGs.

Reads the npz batches of Chrabaszcz et al. (2017),
https://image-net.org/download-images ("Downsampled ImageNet 64x64")::

    ROOT/train_data_batch_1.npz ... train_data_batch_10.npz
    ROOT/val_data.npz

each with ``data`` (N, 12288) uint8 (planes R, G, B of 64 x 64) and
``labels`` (1-based, 1..1000, in the standard ImageNet-1k order), and writes
one PNG per image into the folder of its 0-based class::

    OUT/train/0000/<batch>_<row>.png ... OUT/train/0999/...
    OUT/val/0000/...

``ClassFolderDataset`` reads the folders in sorted order, so folder
``0123`` is class 123 and the class-conditional model sees ImageNet-1k
indices (the ones the zero-shot VOC mapping uses).

    python tools/dataset_converters/imagenet64.py data/raw/imagenet64 \
        -o data/imagenet64
"""
import argparse
import glob
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.utils import track_iter_progress
from PIL import Image


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Unpack Downsampled ImageNet 64x64 npz batches')
    parser.add_argument(
        'root', help='folder with *_data_batch_*.npz and '
        'val_data.npz')
    parser.add_argument(
        '-o',
        '--out-dir',
        default=osp.join('data', 'imagenet64'),
        help='output folder (default: data/imagenet64)')
    parser.add_argument(
        '--img-size',
        type=int,
        default=64,
        help='side of the stored images (default: 64)')
    return parser.parse_args(argv)


def convert_batch(path: str, out_dir: str, img_size: int) -> int:
    """Write every image of one npz batch; returns the count."""
    batch = np.load(path)
    for key in ('data', 'labels'):
        if key not in batch:
            raise KeyError(f'{path!r} has no {key!r} array')
    data, labels = batch['data'], np.asarray(batch['labels']).ravel()
    if data.ndim != 2 or data.shape[1] != 3 * img_size * img_size or \
            len(labels) != len(data):
        raise ValueError(f'{path!r}: data {data.shape} and labels '
                         f'{labels.shape} do not describe {img_size}x'
                         f'{img_size} RGB images')
    if labels.min() < 1 or labels.max() > 1000:
        raise ValueError(f'{path!r}: labels must be 1-based in 1..1000')
    images = data.reshape(-1, 3, img_size, img_size).transpose(0, 2, 3, 1)
    stem = osp.splitext(osp.basename(path))[0]
    for row, (image, label) in enumerate(zip(images, labels)):
        folder = osp.join(out_dir, f'{int(label) - 1:04d}')
        os.makedirs(folder, exist_ok=True)
        Image.fromarray(image).save(osp.join(folder, f'{stem}_{row:06d}.png'))
    return len(images)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    plan = (('train',
             sorted(glob.glob(osp.join(args.root, '*data_batch_*.npz')))),
            ('val', sorted(glob.glob(osp.join(args.root, 'val_data*.npz')))))
    if not any(files for _, files in plan):
        raise FileNotFoundError(f'no *_data_batch_*.npz or val_data.npz in '
                                f'{args.root!r}')
    for split, files in plan:
        total = 0
        for path in track_iter_progress(files):
            total += convert_batch(path, osp.join(args.out_dir, split),
                                   args.img_size)
        print(f'{split}: {total} images')
    print(f'Done: {args.out_dir}')


if __name__ == '__main__':
    main()
