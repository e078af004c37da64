# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Generated stand-ins for the benchmark datasets (none is on these
machines) and the option set that shrinks the 64x64 configs to a model that
runs in a second on a CPU."""
import os
import os.path as osp
from typing import Dict

import numpy as np
from PIL import Image

#: VOC ids and the object classes drawn into them (1 aeroplane, 8 cat,
#: 12 dog, 15 person); the third image is background only.
VOC_IMAGES = {
    '2007_000033': [8],
    '2007_000042': [12, 15],
    '2007_000061': [],
    '2007_000123': [1],
}
VOC_PALETTE = [0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0, 0, 0, 128] + \
    [(i * 37) % 256 for i in range(15, 768)]

# Shrinks configs/_base_/models/factdiff_unet.py (ADM 64x64) to a few
# thousand parameters; inputs stay 64x64.
TINY_64 = {}
for _part in ('backbone', 'trunk'):
    _width = 'base_channels' if _part == 'backbone' else 'channels'
    TINY_64.update({
        f'model.{_part}.{_width}': 8,
        f'model.{_part}.channel_mults': (1, 2),
        f'model.{_part}.attention_strides': (),
        f'model.{_part}.num_groups': 4,
        f'model.{_part}.num_heads': 2,
    })
TINY_64.update({
    'model.backbone.num_res_blocks': 1,
    'model.scheduler.num_train_timesteps': 100,
    'model.test_cfg.t': 5,
})


def loader_options(*splits: str, batch_size: int = 4) -> Dict[str, object]:
    """Single-process loading, small batches, for the given dataloaders."""
    opts = {}
    for split in splits:
        opts.update({
            f'{split}_dataloader.num_workers': 0,
            f'{split}_dataloader.persistent_workers': False,
            f'{split}_dataloader.batch_size': batch_size,
        })
    return opts


def make_voc(root: str, size=(40, 30)) -> str:
    """A VOC 2012 tree (JPEGImages, palette SegmentationClass with 255 on
    object borders, ImageSets/Segmentation/{train,val}.txt) with the images
    of ``VOC_IMAGES``; returns ``root/VOCdevkit/VOC2012``."""
    voc = osp.join(root, 'VOCdevkit', 'VOC2012')
    for sub in ('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation'):
        os.makedirs(osp.join(voc, sub), exist_ok=True)
    w, h = size
    rng = np.random.default_rng(0)
    for n, (name, classes) in enumerate(VOC_IMAGES.items()):
        gt = np.zeros((h, w), np.uint8)
        img = rng.integers(0, 60, (h, w, 3)).astype(np.uint8)
        for i, cls in enumerate(classes):
            x0 = 4 + 16 * i
            gt[6:22, x0:x0 + 14] = 255  # border, ignored
            gt[7:21, x0 + 1:x0 + 13] = cls
            img[7:21, x0 + 1:x0 + 13] = 200 - 40 * i
        Image.fromarray(img).save(osp.join(voc, 'JPEGImages', name + '.jpg'))
        png = Image.fromarray(gt, mode='P')
        png.putpalette(VOC_PALETTE)
        png.save(osp.join(voc, 'SegmentationClass', name + '.png'))
    names = list(VOC_IMAGES)
    for split, ids in (('train', names[:2]), ('val', names)):
        with open(
                osp.join(voc, 'ImageSets', 'Segmentation', split + '.txt'),
                'w') as f:
            f.write('\n'.join(ids) + '\n')
    return voc


def save_random_checkpoint(cfg, path: str) -> str:
    """Save the randomly initialised model of ``cfg`` as a checkpoint."""
    import torch
    from mmseg.registry import MODELS
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path
