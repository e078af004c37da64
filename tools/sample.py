# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Generate images and their region masks with a trained model.

    python tools/sample.py CONFIG CHECKPOINT --out-dir DIR [--num-samples 16]
        [--scheduler ddpm|ddim] [--num-steps N] [--eta 0] [--seed 0]
        [--labels 1 2 ...] [--batch-size 16] [--weights ema|raw]
        [--device cpu] [--cfg-options k=v ...]

Writes ``DIR/samples_grid.png`` (each image beside its coloured mask),
``DIR/samples/NNNNN.png`` and ``DIR/samples/NNNNN_mask.png``, and
``DIR/samples.npz`` with the raw arrays: ``images`` (N, H, W, 3) uint8,
``masks`` (N, K, H, W) float32 soft masks read at the last step,
``labels`` (class-conditional models).
"""
import argparse
import os
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config, DictAction
from PIL import Image


def positive_int(text: str) -> int:
    """argparse type: an int >= 1 (the option's name is in argparse's
    error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not an integer')
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1, got {value}')
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a finite float >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a number')
    if not value >= 0 or value == float('inf'):
        raise argparse.ArgumentTypeError(f'must be finite and >= 0, got '
                                         f'{text}')
    return value


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Generate images and masks with a factorized model')
    p.add_argument('config')
    p.add_argument('checkpoint')
    from mmfactdiff.utils import add_trust_checkpoint_argument
    add_trust_checkpoint_argument(p)
    p.add_argument('--out-dir', required=True)
    p.add_argument('--num-samples', type=positive_int, default=16)
    p.add_argument('--scheduler', choices=['ddpm', 'ddim'], default='ddpm')
    p.add_argument(
        '--num-steps',
        type=positive_int,
        default=None,
        help='sampling steps (default: T for ddpm, 50 for ddim)')
    p.add_argument(
        '--eta', type=non_negative_float, default=0., help='DDIM eta')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument(
        '--labels',
        type=int,
        nargs='+',
        default=None,
        help='class labels (class-conditional models): one per sample, or '
        'one for all; default: uniformly random classes')
    p.add_argument('--batch-size', type=positive_int, default=16)
    p.add_argument('--weights', choices=['ema', 'raw'], default='ema')
    p.add_argument('--device', default='cpu')
    p.add_argument('--grid-cols', type=positive_int, default=4)
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmfactdiff.utils import ensure_writable
    ensure_writable(args.out_dir, '--out-dir', folder=True)
    from mmfactdiff.apis import init_factdiff_model
    from mmfactdiff.visualization import (colorize, make_grid, masks_to_ids,
                                          to_uint8_images)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    from mmfactdiff.utils import trust_checkpoints
    with trust_checkpoints(args.trust_checkpoint):
        model = init_factdiff_model(cfg, args.checkpoint, args.device,
                                    args.weights)
    train_sched = model.scheduler
    sched_cfg = dict(
        type='DDPMNoiseScheduler'
        if args.scheduler == 'ddpm' else 'DDIMNoiseScheduler',
        num_train_timesteps=train_sched.num_train_timesteps,
        beta_schedule=train_sched.beta_schedule)
    if args.scheduler == 'ddim':
        sched_cfg['eta'] = args.eta
    steps = args.num_steps or (train_sched.num_train_timesteps
                               if args.scheduler == 'ddpm' else 50)
    if steps > train_sched.num_train_timesteps:
        raise ValueError(f'--num-steps must be at most the model\'s '
                         f'{train_sched.num_train_timesteps} training '
                         f'timesteps, got {steps}')

    n = args.num_samples
    labels = None
    num_classes = getattr(model.backbone, 'num_classes', None)
    if num_classes:
        gen = torch.Generator().manual_seed(args.seed)
        if args.labels is None:
            labels = torch.randint(0, num_classes, (n, ), generator=gen)
        else:
            labels = torch.tensor(args.labels)
            labels = labels.expand(n) if labels.numel() == 1 else labels
            if labels.numel() != n or labels.min() < 0 or \
                    labels.max() >= num_classes:
                raise ValueError(f'--labels must give 1 or {n} labels in [0, '
                                 f'{num_classes}), got {args.labels}')
    elif args.labels is not None:
        raise ValueError('--labels given for an unconditional model')

    generator = torch.Generator(device='cpu').manual_seed(args.seed)
    images, masks = [], []
    for start in range(0, n, args.batch_size):
        b = min(args.batch_size, n - start)
        print(f'batch {start // args.batch_size + 1}/'
              f'{-(-n // args.batch_size)}: {b} samples, {steps} '
              f'{args.scheduler} steps')
        out = model.sample(
            b,
            num_steps=steps,
            scheduler=sched_cfg,
            labels=None if labels is None else labels[start:start +
                                                      b].to(args.device),
            generator=generator,
            progress=True)
        images.append(out['images'].cpu())
        masks.append(out['masks'].float().cpu())
    images_u8 = to_uint8_images(torch.cat(images))
    masks = torch.cat(masks)
    ids = masks_to_ids(masks)
    k = masks.shape[1]

    os.makedirs(osp.join(args.out_dir, 'samples'), exist_ok=True)
    for i in range(n):
        Image.fromarray(images_u8[i]).save(
            osp.join(args.out_dir, 'samples', f'{i:05d}.png'))
        Image.fromarray(colorize(ids[i], k)).save(
            osp.join(args.out_dir, 'samples', f'{i:05d}_mask.png'))
    grid = make_grid(images_u8, ids, k, ncols=args.grid_cols, scale=2)
    Image.fromarray(grid).save(osp.join(args.out_dir, 'samples_grid.png'))
    arrays = dict(images=images_u8, masks=masks.numpy().astype(np.float32))
    if labels is not None:
        arrays['labels'] = labels.numpy()
    tmp = osp.join(args.out_dir, 'samples.tmp.npz')
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, osp.join(args.out_dir, 'samples.npz'))
    print(f'wrote {n} samples to {args.out_dir}')


if __name__ == '__main__':
    main()
