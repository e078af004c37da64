# Copyright (c) mmfactdiff contributors. All rights reserved.
"""A picture of how a checkpoint segments held-out images of its config's
test set: each tile is the image, the predicted regions and the ground
truth. Predictions come from the model's own ``predict`` (the one-pass fast
path with the config's ``test_cfg``), with the EMA weights by default.

    python tools/analysis_tools/segmentation_report.py CONFIG CHECKPOINT \
        --out work_dirs/main/segmentation_grid.png [--num-images 24]
"""
import argparse
import os
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from PIL import Image


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out', required=True, help='PNG file to write')
    p.add_argument('--num-images', type=int, default=24)
    p.add_argument('--weights', choices=['ema', 'raw'], default='ema')
    p.add_argument('--scale', type=int, default=3)
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


@torch.no_grad()
def main(argv=None) -> None:
    args = parse_args(argv)
    from mmfactdiff.utils import ensure_writable
    ensure_writable(args.out, '--out')
    from mmseg.registry import DATASETS

    from mmfactdiff.apis import init_factdiff_model
    from mmfactdiff.visualization import colorize, make_grid
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = init_factdiff_model(cfg, args.checkpoint, weights=args.weights)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    n = min(args.num_images, len(dataset))
    batch = pseudo_collate([dataset[i] for i in range(n)])
    data = model.data_preprocessor(batch, False)
    preds = model.predict(data['inputs'], data['data_samples'])
    # inputs are the uint8 images as loaded (BGR, as mmcv reads them)
    images = np.stack(
        [img.permute(1, 2, 0).numpy()[..., ::-1] for img in batch['inputs']])
    ids = np.stack([p.pred_sem_seg.data[0].numpy() for p in preds])
    k = model.out_channels
    extra = None
    if preds[0].get('gt_sem_seg') is not None:
        gt = np.stack([p.gt_sem_seg.data[0].numpy() for p in preds])
        gt = np.where(gt == 255, 0, gt)
        extra = [colorize(gt, max(int(gt.max()) + 1, 2))]
    grid = make_grid(images, ids, k, ncols=6, scale=args.scale, extra=extra)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    Image.fromarray(grid).save(args.out)
    print(f'wrote {args.out}: {n} images (image | regions | ground truth)')


if __name__ == '__main__':
    main()
