# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Convert CelebAMask-HQ to the layout of the CelebAMask-HQ configs.

Reads the official release (https://github.com/switchablenorms/CelebAMask-HQ)::

    ROOT/CelebA-HQ-img/<i>.jpg                                 1024 x 1024
    ROOT/CelebAMask-HQ-mask-anno/<i // 2000>/<i:05d>_<part>.png  512 x 512
    ROOT/CelebA-HQ-to-CelebA-mapping.txt     "idx orig_idx orig_file"

One binary mask per face part; parts are painted in the official order
(``PARTS``, later parts over earlier ones) into one label map, and then
merged into the classes of ``--merge``:

- ``face-hair`` (default, 3 classes): background, face (skin, nose,
  glasses, eyes, brows, ears, earrings, mouth, lips), hair; hat, neck,
  necklace and cloth count as background.
- ``fg-bg`` (2 classes): background, head and shoulders (every part).
- ``parts`` (19 classes): background and the 18 official parts.
- a JSON file ``{"<class>": ["<part>", ...], ...}``: class 0 is
  background (and every part not listed), then the keys in file order.

Splits follow CelebA's ``list_eval_partition.txt`` (0 train, 1 val,
2 test; not part of CelebAMask-HQ, pass it with ``--partition-file``) through
the mapping file. Without it every image goes to ``test`` (evaluation only;
the paper trains on FFHQ and only evaluates on CelebAMask-HQ). Writes::

    OUT/images/{train,val,test}/<i>.jpg
    OUT/masks/{train,val,test}/<i>.png   uint8 class ids
    OUT/classes.json                     the class names, in id order

    python tools/dataset_converters/celebamask_hq.py data/raw/CelebAMask-HQ \
        --partition-file data/raw/list_eval_partition.txt \
        -o data/celebamask_hq --size 64
"""
import argparse
import json
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.utils import track_iter_progress
from PIL import Image

from mmfactdiff.datasets.preprocessing import save_image, save_mask

#: The 18 annotated parts, in the official painting order (label 1..18).
PARTS = ('skin', 'nose', 'eye_g', 'l_eye', 'r_eye', 'l_brow', 'r_brow',
         'l_ear', 'r_ear', 'mouth', 'u_lip', 'l_lip', 'hair', 'hat', 'ear_r',
         'neck_l', 'neck', 'cloth')
FACE = [
    'skin', 'nose', 'eye_g', 'l_eye', 'r_eye', 'l_brow', 'r_brow', 'l_ear',
    'r_ear', 'ear_r', 'mouth', 'u_lip', 'l_lip'
]
PRESETS: Dict[str, Dict[str, List[str]]] = {
    'face-hair': {
        'face': FACE,
        'hair': ['hair']
    },
    'fg-bg': {
        'foreground': list(PARTS)
    },
    'parts': {
        part: [part]
        for part in PARTS
    },
}
SPLIT_NAMES = {0: 'train', 1: 'val', 2: 'test'}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert CelebAMask-HQ to mmfactdiff format')
    parser.add_argument('root', help='CelebAMask-HQ folder')
    parser.add_argument(
        '-o',
        '--out-dir',
        default=osp.join('data', 'celebamask_hq'),
        help='output folder (default: data/celebamask_hq)')
    parser.add_argument(
        '--merge',
        default='face-hair',
        help=f'class merging: one of {sorted(PRESETS)} or a JSON file '
        '(default: face-hair)')
    parser.add_argument(
        '--mapping-file',
        help='CelebA-HQ-to-CelebA-mapping.txt (default: '
        'ROOT/CelebA-HQ-to-CelebA-mapping.txt)')
    parser.add_argument(
        '--partition-file',
        help="CelebA's list_eval_partition.txt; "
        'without it every image goes to test')
    parser.add_argument(
        '--size',
        type=int,
        default=None,
        help='output side: short side resized and centre-cropped '
        '(default: the mask resolution, 512)')
    return parser.parse_args(argv)


def merge_table(merge: str) -> Tuple[List[str], np.ndarray]:
    """Class names and a lookup ``part label (0..18) -> class id``."""
    if merge in PRESETS:
        spec, source = PRESETS[merge], f'preset {merge!r}'
    elif osp.isfile(merge):
        with open(merge) as f:
            spec, source = json.load(f), merge
    else:
        raise ValueError(f'--merge {merge!r} is neither a preset '
                         f'({sorted(PRESETS)}) nor a JSON file')
    if not isinstance(spec, dict) or not spec:
        raise ValueError(f'{source}: expected {{"<class>": [parts], ...}}')
    lookup = np.zeros(len(PARTS) + 1, dtype=np.uint8)
    seen = {}
    for class_id, (name, parts) in enumerate(spec.items(), 1):
        for part in parts:
            if part not in PARTS:
                raise ValueError(f'{source}: class {name!r} lists unknown '
                                 f'part {part!r}; parts are {PARTS}')
            if part in seen:
                raise ValueError(f'{source}: part {part!r} is in both '
                                 f'{seen[part]!r} and {name!r}')
            seen[part] = name
            lookup[PARTS.index(part) + 1] = class_id
    return ['background'] + list(spec), lookup


def read_splits(mapping_file: str,
                partition_file: Optional[str]) -> Dict[int, str]:
    """CelebA-HQ index -> split name."""
    if partition_file is None:
        return {}
    for path in (mapping_file, partition_file):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path!r} not found')
    partition = {}
    with open(partition_file) as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                partition[parts[0]] = SPLIT_NAMES[int(parts[1])]
            elif parts:
                raise ValueError(f'{partition_file}:{n}: expected '
                                 f'"<file> <0|1|2>", got {line.strip()!r}')
    splits = {}
    with open(mapping_file) as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if not parts or not parts[0].isdigit():
                continue  # header
            if len(parts) != 3 or parts[2] not in partition:
                raise ValueError(f'{mapping_file}:{n}: {line.strip()!r} has '
                                 f'no CelebA file in {partition_file!r}')
            splits[int(parts[0])] = partition[parts[2]]
    return splits


def part_labels(anno_dir: str, index: int, shape: Tuple[int, int]) \
        -> np.ndarray:
    """Paint the part masks of one image into labels 0..18."""
    labels = np.zeros(shape, dtype=np.uint8)
    folder = osp.join(anno_dir, str(index // 2000))
    for label, part in enumerate(PARTS, 1):
        path = osp.join(folder, f'{index:05d}_{part}.png')
        if osp.isfile(path):
            with Image.open(path) as m:
                mask = np.asarray(m.convert('L')) > 127
            if mask.shape != shape:
                raise ValueError(f'{path!r} is {mask.shape[::-1]}, the other '
                                 f'masks of image {index} are {shape[::-1]}')
            labels[mask] = label
    return labels


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    classes, lookup = merge_table(args.merge)
    img_dir = osp.join(args.root, 'CelebA-HQ-img')
    anno_dir = osp.join(args.root, 'CelebAMask-HQ-mask-anno')
    if not osp.isdir(img_dir) or not osp.isdir(anno_dir):
        raise FileNotFoundError(f'{args.root!r} must hold CelebA-HQ-img/ and '
                                'CelebAMask-HQ-mask-anno/')
    indices = sorted(
        int(m.group(1))
        for m in map(re.compile(r'^(\d+)\.jpg$').match, os.listdir(img_dir))
        if m)
    splits = read_splits(
        args.mapping_file
        or osp.join(args.root, 'CelebA-HQ-to-CelebA-mapping.txt'),
        args.partition_file)
    if not splits:
        print('No --partition-file: every image goes to the test split')
    counts = {}
    for index in track_iter_progress(indices):
        split = splits.get(index, 'test') if splits else 'test'
        if splits and index not in splits:
            raise ValueError(f'image {index} is not in the mapping file')
        with Image.open(osp.join(img_dir, f'{index}.jpg')) as img:
            rgb = np.asarray(img.convert('RGB'))
        mask_shape = None
        folder = osp.join(anno_dir, str(index // 2000))
        for part in PARTS:
            path = osp.join(folder, f'{index:05d}_{part}.png')
            if osp.isfile(path):
                with Image.open(path) as m:
                    mask_shape = m.size[::-1]
                break
        if mask_shape is None:
            raise FileNotFoundError(f'image {index} has no part mask in '
                                    f'{folder!r}')
        labels = lookup[part_labels(anno_dir, index, mask_shape)]
        # images (1024 px) are brought to the masks' size (512 px)
        save_image(
            '',
            osp.join(args.out_dir, 'images', split, f'{index}.jpg'),
            args.size or min(mask_shape),
            image=rgb)
        save_mask(labels, osp.join(args.out_dir, 'masks', split,
                                   f'{index}.png'), args.size)
        counts[split] = counts.get(split, 0) + 1
    with open(osp.join(args.out_dir, 'classes.json'), 'w') as f:
        json.dump(classes, f)
    print(f'Done: {args.out_dir} ({counts}), classes {classes}')


if __name__ == '__main__':
    main()
