# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Convert Oxford Flowers-102 to the layout of the Flowers configs.

Reads the official files (https://www.robots.ox.ac.uk/~vgg/data/flowers/102/):

    ROOT/jpg/image_00001.jpg ...          102flowers.tgz
    ROOT/segmim/segmim_00001.jpg ...      102segmentations.tgz
    ROOT/setid.mat                        trnid / valid / tstid (1-based ids)

and writes, with the IEM / ReDO split (train = tstid, val = valid,
test = trnid: the large official "test" set is used for training)::

    OUT/images/{train,val,test}/image_00001.jpg
    OUT/masks/{train,val,test}/image_00001.png   uint8, 0 background, 1 flower

The segmim images paint the background pure blue (0, 0, 254); they are
JPEGs, so a pixel is background when every channel is within
``--bg-tolerance`` of that blue.

    python tools/dataset_converters/flowers102.py ROOT -o data/flowers102 \
        --size 64
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.utils import track_iter_progress
from PIL import Image

from mmfactdiff.datasets.preprocessing import save_image, save_mask

#: IEM / ReDO use the official splits swapped: train on the 6149 "test"
#: images, evaluate on the 1020 "train" images.
SPLITS = (('train', 'tstid'), ('val', 'valid'), ('test', 'trnid'))
BACKGROUND_RGB = np.array([0, 0, 254])


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert Flowers-102 (images, segmim, setid.mat) to '
        'mmfactdiff format')
    parser.add_argument('root', help='folder with jpg/, segmim/, setid.mat')
    parser.add_argument(
        '-o',
        '--out-dir',
        default=osp.join('data', 'flowers102'),
        help='output folder (default: data/flowers102)')
    parser.add_argument(
        '--split-file', help='setid.mat (default: ROOT/setid.mat)')
    parser.add_argument(
        '--size',
        type=int,
        default=None,
        help='resize the short side to SIZE and centre-crop SIZE x SIZE '
        '(ground truth nearest); default: keep the resolution')
    parser.add_argument(
        '--bg-tolerance',
        type=int,
        default=50,
        help='max per-channel distance to (0, 0, 254) of a background '
        'pixel (default: 50)')
    return parser.parse_args(argv)


def read_splits(path: str) -> Dict[str, List[int]]:
    """Image ids of each output split from ``setid.mat``."""
    from scipy.io import loadmat
    if not osp.isfile(path):
        raise FileNotFoundError(f'split file {path!r} not found')
    mat = loadmat(path)
    splits = {}
    for split, key in SPLITS:
        if key not in mat:
            raise KeyError(f'{path!r} has no {key!r} array (expected '
                           'trnid, valid, tstid)')
        splits[split] = [int(i) for i in np.asarray(mat[key]).ravel()]
    return splits


def flower_mask(segmim: np.ndarray, tolerance: int) -> np.ndarray:
    """1 where the segmim pixel is not the blue background, else 0."""
    dist = np.abs(segmim.astype(np.int64) - BACKGROUND_RGB).max(axis=-1)
    return (dist > tolerance).astype(np.uint8)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    splits = read_splits(args.split_file or osp.join(args.root, 'setid.mat'))
    for split, ids in splits.items():
        print(f'Converting {len(ids)} {split} images...')
        for image_id in track_iter_progress(ids):
            name = f'image_{image_id:05d}'
            img = osp.join(args.root, 'jpg', name + '.jpg')
            seg = osp.join(args.root, 'segmim', f'segmim_{image_id:05d}.jpg')
            for path in (img, seg):
                if not osp.isfile(path):
                    raise FileNotFoundError(
                        f'{path!r} (image id {image_id} of the {split} '
                        'split) not found')
            with Image.open(seg) as s:
                mask = flower_mask(
                    np.asarray(s.convert('RGB')), args.bg_tolerance)
            save_image(img,
                       osp.join(args.out_dir, 'images', split, name + '.jpg'),
                       args.size)
            save_mask(mask,
                      osp.join(args.out_dir, 'masks', split, name + '.png'),
                      args.size)
    print(f'Done: {args.out_dir}')


if __name__ == '__main__':
    main()
