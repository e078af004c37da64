# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Convert CUB-200-2011 to the layout of the CUB configs (ReDO split).

Reads the official files
(https://www.vision.caltech.edu/datasets/cub_200_2011/)::

    ROOT/images.txt                  "<id> <class dir>/<name>.jpg", 1-based ids
    ROOT/images/<class dir>/<name>.jpg
    SEG_DIR/<class dir>/<name>.png   segmentations.tgz
                                     (default ROOT/segmentations)

and ReDO's ``train_val_test_split.txt`` (one line per image, "<id> <split>"
with split 0 = train, 1 = val, 2 = test; a single column in images.txt
order is accepted too). The file is not part of CUB: download it from the
ReDO repository and pass it with ``--split-file``. Writes::

    OUT/images/{train,val,test}/<name>.jpg
    OUT/masks/{train,val,test}/<name>.png   uint8, 0 background, 1 bird

A pixel is foreground when its segmentation value is above 0.5 (of 255).

    python tools/dataset_converters/cub200.py data/raw/CUB_200_2011 \
        --split-file data/raw/train_val_test_split.txt \
        -o data/cub200 --size 64
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.utils import track_iter_progress
from PIL import Image

from mmfactdiff.datasets.preprocessing import save_image, save_mask

SPLIT_NAMES = {0: 'train', 1: 'val', 2: 'test'}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert CUB-200-2011 with segmentations to mmfactdiff '
        'format (ReDO train/val/test split)')
    parser.add_argument(
        'root', help='CUB_200_2011 folder (images.txt, '
        'images/)')
    parser.add_argument(
        '-o',
        '--out-dir',
        default=osp.join('data', 'cub200'),
        help='output folder (default: data/cub200)')
    parser.add_argument(
        '--seg-dir',
        help='segmentations folder (default: '
        'ROOT/segmentations)')
    parser.add_argument(
        '--split-file',
        help="ReDO's train_val_test_split.txt (default: "
        'ROOT/train_val_test_split.txt)')
    parser.add_argument(
        '--size',
        type=int,
        default=None,
        help='resize the short side to SIZE and centre-crop SIZE x SIZE '
        '(ground truth nearest); default: keep the resolution')
    return parser.parse_args(argv)


def read_images(path: str) -> Dict[int, str]:
    """``images.txt``: image id -> relative path."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path!r} not found (CUB images.txt)')
    images = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2 or not parts[0].isdigit():
                raise ValueError(f'{path}:{n}: expected "<id> <path>", got '
                                 f'{line.strip()!r}')
            images[int(parts[0])] = parts[1]
    return images


def read_split(path: str, ids: List[int]) -> Dict[int, int]:
    """ReDO split file: image id -> 0/1/2."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'split file {path!r} not found: download ReDO\'s '
            'train_val_test_split.txt and pass it with --split-file')
    split = {}
    with open(path) as f:
        rows = [line.split() for line in f if line.strip()]
    for n, row in enumerate(rows, 1):
        if len(row) == 2:
            image_id, value = int(row[0]), int(row[1])
        elif len(row) == 1 and len(rows) == len(ids):
            image_id, value = ids[n - 1], int(row[0])
        else:
            raise ValueError(f'{path}:{n}: expected "<id> <0|1|2>", got '
                             f'{" ".join(row)!r}')
        if value not in SPLIT_NAMES:
            raise ValueError(f'{path}:{n}: split must be 0, 1 or 2, got '
                             f'{value}')
        split[image_id] = value
    missing = [i for i in ids if i not in split]
    if missing:
        raise ValueError(f'{path!r} gives no split for {len(missing)} '
                         f'image id(s) of images.txt, e.g. {missing[:5]}')
    return split


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    images = read_images(osp.join(args.root, 'images.txt'))
    ids = sorted(images)
    split = read_split(
        args.split_file or osp.join(args.root, 'train_val_test_split.txt'),
        ids)
    seg_dir = args.seg_dir or osp.join(args.root, 'segmentations')
    counts = {name: 0 for name in SPLIT_NAMES.values()}
    for image_id in track_iter_progress(ids):
        rel = images[image_id]
        name = osp.splitext(osp.basename(rel))[0]
        out_split = SPLIT_NAMES[split[image_id]]
        img = osp.join(args.root, 'images', rel)
        seg = osp.join(seg_dir, osp.splitext(rel)[0] + '.png')
        for path in (img, seg):
            if not osp.isfile(path):
                raise FileNotFoundError(f'{path!r} (image id {image_id}) not '
                                        'found')
        with Image.open(seg) as s:
            mask = (np.asarray(s.convert('L')) / 255. > 0.5).astype(np.uint8)
        save_image(img,
                   osp.join(args.out_dir, 'images', out_split, name + '.jpg'),
                   args.size)
        save_mask(mask,
                  osp.join(args.out_dir, 'masks', out_split, name + '.png'),
                  args.size)
        counts[out_split] += 1
    print(f'Done: {args.out_dir} ({counts})')


if __name__ == '__main__':
    main()
