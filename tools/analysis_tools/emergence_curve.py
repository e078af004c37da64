# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Do regions emerge? Train a config for a fixed budget on this machine and
measure, at several training lengths, how well the model's masks segment
held-out images of its validation set, beside label-free baselines.

It trains exactly what ``tools/train.py`` would (the config's model, train
dataset, optimizer wrapper and EMA momentum) with a plain loop, and at each
evaluation point reads the masks with the segmentation fast path (noise to
``test_cfg.t``, fixed seed, softmax, argmax) of the raw and the EMA weights.

Scores (evaluation.md): foreground IoU with the IEM/ReDO per-image polarity
rule (K = 2), dataset-level Hungarian mIoU, and (any K, label-assisted)
``fg_iou_assigned``: foreground IoU of the union of the regions that the
labels assign to the foreground once on the whole split. Baselines on the
same images: the all-foreground mask, per-image colour k-means (K clusters
on RGB), and, with ``--plain``, per-image k-means on the last decoder
features of a plain U-Net denoiser (the same config with K = 1, an
ordinary U-Net) trained for the same budget ("DatasetDDPM-unsup" style,
per image).

    python tools/analysis_tools/emergence_curve.py CONFIG --seed 0 \
        --iters 2000 --eval-every 250 --out work_dirs/emergence/gumbel-s0.json \
        --cfg-options model.decode_head.mask_sampling=gumbel
"""
import argparse
import json
import os.path as osp
import platform
import time

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.logging import MessageHub
from mmengine.model import ExponentialMovingAverage
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed
from scipy.cluster.vq import kmeans2


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--iters', type=int, default=2000)
    p.add_argument('--eval-every', type=int, default=250)
    p.add_argument('--num-eval', type=int, default=128,
                   help='held-out images (from the val dataset)')
    p.add_argument('--plain', action='store_true',
                   help='train the K=1 plain U-Net and score k-means on its '
                   'decoder features instead')
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--save-masks', action='store_true',
                   help='write a PNG of the first 12 held-out images and '
                   'their regions (EMA) beside the JSON at each evaluation')
    p.add_argument('--out', required=True, help='JSON file to write')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


# Config hooks that change training itself; the curve tool calls them as the
# runner would (before/after every iteration). Logging hooks are left out.
TRAINING_HOOKS = ('TauScheduleHook', 'DeadRegionRestartHook')


class LoopState:
    """The runner attributes that the training hooks read, for a plain loop.

    Args:
        model (nn.Module): The trained model.
        optim_wrapper: Its optimizer wrapper.
        max_iters (int): Length of the run.
    """

    def __init__(self, model, optim_wrapper, max_iters: int) -> None:
        self.model = model
        self.optim_wrapper = optim_wrapper
        self.max_iters = max_iters
        self.iter = 0
        self.message_hub = MessageHub.get_current_instance()


def training_hook_cfgs(cfg: Config) -> list:
    """The config's ``custom_hooks`` listed in ``TRAINING_HOOKS``, without
    the runner-only ``priority`` key."""
    return [{k: v for k, v in h.items() if k != 'priority'}
            for h in cfg.get('custom_hooks', [])
            if h['type'] in TRAINING_HOOKS]


def build_training_hooks(cfg: Config) -> list:
    """The config's training hooks, built."""
    from mmfactdiff.registry import HOOKS
    return [HOOKS.build(h) for h in training_hook_cfgs(cfg)]


def describe_remedies(cfg: Config) -> list:
    """Short names of the config's collapse remedies (for the summaries)."""
    out = []
    for h in training_hook_cfgs(cfg):
        args = ', '.join(f'{k}={v}' for k, v in h.items() if k != 'type')
        out.append(f"{h['type']}({args})")
    train_cfg = cfg.model.get('train_cfg') or {}
    weight = train_cfg.get('usage_balance_weight')
    if weight:
        out.append(f'usage_balance_weight={weight}')
    if train_cfg.get('mask_noise', 'shared') != 'shared':
        out.append(f"mask_noise={train_cfg['mask_noise']}")
    keys = ((cfg.optim_wrapper.get('paramwise_cfg') or {}).get('custom_keys')
            or {})
    for key, opts in keys.items():
        if 'lr_mult' in opts:
            # the mask generator is the decode head
            name = '' if key == 'decode_head' else f'{key}.'
            out.append(f"{name}lr_mult={opts['lr_mult']}")
    return out


def describe_data(cfg: Config) -> list:
    """How the training data differs from the built-in defaults (for the
    summaries): ``[]`` for the built-in data, ``['key=value', ...]`` for
    other arguments of it, ``[type]`` for another dataset."""
    import inspect

    from mmfactdiff.datasets import SyntheticShapesDataset
    from mmfactdiff.datasets.synthetic_shapes_dataset import DIFFICULTY_ARGS
    ds = cfg.train_dataloader.dataset
    if ds.get('type') != 'SyntheticShapesDataset':
        return [str(ds.get('type'))]
    params = inspect.signature(SyntheticShapesDataset).parameters
    out = []
    for key in DIFFICULTY_ARGS:
        value, default = ds.get(key, params[key].default), params[key].default
        if isinstance(default, (tuple, list)):
            value, default = tuple(value), tuple(default)
        if value != default:
            out.append(f'{key}={value!r}')
    return out


def fg_iou(pred: np.ndarray, gt: np.ndarray) -> float:
    """Foreground IoU, per-image polarity rule (pred: region ids 0/1)."""
    from mmfactdiff.evaluation.functional import foreground_scores
    return foreground_scores(pred > 0, gt > 0)['iou']


def hungarian_miou(preds, gts, num_regions: int, num_classes: int) -> float:
    from mmfactdiff.evaluation.functional import (hungarian_match,
                                                  matched_scores,
                                                  region_confusion)
    conf = sum(
        region_confusion(p, g, num_regions, num_classes)
        for p, g in zip(preds, gts))
    return matched_scores(conf, hungarian_match(conf))['mIoU']


def assigned_fg_iou(preds, gts, num_regions: int) -> float:
    """Mean per-image foreground IoU, the foreground being the union of the
    regions that the labels assign to it once on the whole split
    (evaluation.md, K > 2). Label-assisted: never beside the polarity rule
    without saying so."""
    from mmfactdiff.evaluation.functional import (fg_assignment,
                                                  foreground_scores,
                                                  region_confusion)
    fg_gts = [np.where(g == 255, 255, g > 0) for g in gts]
    conf = sum(
        region_confusion(p, g, num_regions, 2) for p, g in zip(preds, fg_gts))
    fg = fg_assignment(conf)
    return float(
        np.nanmean([
            foreground_scores(
                fg[p], g == 1, polarity=False, valid=g != 255)['iou']
            for p, g in zip(preds, fg_gts)
        ]))


def kmeans_labels(feats: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k-means (k-means++ init) of (N, C) points; returns labels (N, )."""
    feats = feats.astype(np.float64)
    feats = (feats - feats.mean(0)) / (feats.std(0) + 1e-6)
    _, labels = kmeans2(feats, k, minit='++', seed=seed)
    return labels


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    import mmfactdiff  # noqa: F401
    from mmseg.registry import DATASETS, MODELS

    from mmfactdiff.utils import dump_json_atomic
    init_default_scope('mmseg')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    k_eval = cfg.model.decode_head.num_classes
    if args.plain:
        cfg.model.decode_head.num_classes = 1
    set_random_seed(args.seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    momentum = next((h.get('momentum', 2e-4) for h in cfg.get(
        'custom_hooks', []) if h['type'] == 'EMAHook'), 2e-4)
    ema = ExponentialMovingAverage(model, momentum=momentum,
                                   update_buffers=True)
    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    val_set = DATASETS.build(cfg.val_dataloader.dataset)
    batch_size = cfg.train_dataloader.batch_size
    gen = torch.Generator().manual_seed(args.seed)

    # Held-out images and masks, and the baselines that need no training.
    n_eval = min(args.num_eval, len(val_set))
    val = pseudo_collate([val_set[i] for i in range(n_eval)])
    gts = [s.gt_sem_seg.data[0].numpy() for s in val['data_samples']]
    num_classes = len(val_set.metainfo['classes'])
    rgb = [img.permute(1, 2, 0).reshape(-1, 3).numpy() for img in
           val['inputs']]
    colour = [
        kmeans_labels(x, k_eval, args.seed + i).reshape(g.shape)
        for i, (x, g) in enumerate(zip(rgb, gts))
    ]
    baselines = dict(
        all_foreground_fg_iou=float(
            np.mean([fg_iou(np.ones_like(g), g) for g in gts])),
        colour_kmeans_fg_iou=float(
            np.mean([fg_iou(p, g) for p, g in zip(colour, gts)]))
        if k_eval == 2 else None,
        colour_kmeans_miou=hungarian_miou(colour, gts, k_eval, num_classes))

    def save_grid(preds, it: int) -> None:
        from PIL import Image

        from mmfactdiff.visualization import colorize, make_grid
        imgs = np.stack([
            img.permute(1, 2, 0).numpy()[..., ::-1]
            for img in val['inputs'][:len(preds)]
        ])
        gt = np.stack(gts[:len(preds)])
        grid = make_grid(imgs, np.stack(preds), k_eval, ncols=6, scale=2,
                         extra=[colorize(np.minimum(gt, 1), 2)])
        Image.fromarray(grid).save(
            osp.splitext(args.out)[0] + f'_masks_{it:05d}.png')

    @torch.no_grad()
    def evaluate(net, it: int = 0) -> dict:
        net.eval()
        data = net.data_preprocessor(dict(val), False)
        metas = [s.metainfo for s in data['data_samples']]
        if not args.plain:
            masks = net.encode_decode(data['inputs'], metas)
            preds = [m.argmax(0).numpy() for m in masks]
            if args.save_masks and net is ema.module:
                save_grid(preds[:12], it)
            out = dict(
                miou=hungarian_miou(preds, gts, k_eval, num_classes),
                fg_iou_assigned=assigned_fg_iou(preds, gts, k_eval),
                usage=masks.mean((0, 2, 3)).tolist())
            if k_eval == 2:
                out['fg_iou'] = float(
                    np.mean([fg_iou(p, g) for p, g in zip(preds, gts)]))
                # the same read-out averaged over 4 noise draws
                draws = net.test_cfg.num_noise_draws
                net.test_cfg.num_noise_draws = 4
                avg = net.encode_decode(data['inputs'], metas)
                net.test_cfg.num_noise_draws = draws
                out['fg_iou_4draws'] = float(
                    np.mean([
                        fg_iou(m.argmax(0).numpy(), g)
                        for m, g in zip(avg, gts)
                    ]))
        else:
            feats = {}
            trunk = net.decoder.decoders[0]['trunk']
            handle = trunk.register_forward_hook(
                lambda m, i, o: feats.__setitem__('f', o))
            t = int(net.test_cfg.t)
            noise = torch.randn(
                data['inputs'].shape,
                generator=torch.Generator().manual_seed(
                    int(net.test_cfg.noise_seed)))
            x_t = net.scheduler.add_noise(data['inputs'], noise, t)
            net.denoise(x_t, torch.full((len(x_t), ), t))
            handle.remove()
            f = feats['f']
            preds = [
                kmeans_labels(
                    f[i].flatten(1).T.numpy(), k_eval,
                    args.seed + i).reshape(gts[i].shape)
                for i in range(len(f))
            ]
            out = dict(miou=hungarian_miou(preds, gts, k_eval, num_classes))
            if k_eval == 2:
                out['fg_iou'] = float(
                    np.mean([fg_iou(p, g) for p, g in zip(preds, gts)]))
        net.train()
        return out

    result = dict(
        config=args.config,
        cfg_options=args.cfg_options,
        seed=args.seed,
        iters=args.iters,
        plain=args.plain,
        num_regions=k_eval,
        mask_sampling=cfg.model.decode_head.get('mask_sampling', 'soft'),
        gumbel_noise_stride=cfg.model.decode_head.get(
            'gumbel_noise_stride', 1),
        batch_size=batch_size,
        ema_momentum=momentum,
        num_eval=n_eval,
        machine=f'{platform.processor() or platform.machine()}, '
        f'{torch.get_num_threads()} threads, torch {torch.__version__}',
        baselines=baselines,
        curve=[])
    hooks = build_training_hooks(cfg)
    result['remedies'] = describe_remedies(cfg)
    result['data'] = describe_data(cfg)
    state = LoopState(model, optim, args.iters)
    print(json.dumps(baselines))
    model.train()
    losses, min_usage, start = [], [], time.time()
    order = torch.randperm(len(train_set), generator=gen).tolist()
    pos = 0
    for it in range(1, args.iters + 1):
        if pos + batch_size > len(order):
            order = torch.randperm(len(train_set), generator=gen).tolist()
            pos = 0
        batch = pseudo_collate(
            [train_set[i] for i in order[pos:pos + batch_size]])
        pos += batch_size
        state.iter = it - 1
        for h in hooks:
            h.before_train_iter(state, it - 1, batch)
        log = model.train_step(batch, optim)
        for h in hooks:
            h.after_train_iter(state, it - 1, batch, log)
        ema.update_parameters(model)
        losses.append(float(log['loss'].detach()))
        if getattr(model, 'mask_stats', None):
            min_usage.append(float(model.mask_stats['usage'].min()))
        if it % args.eval_every == 0 or it == args.iters:
            elapsed = time.time() - start
            point = dict(
                iter=it,
                seconds=round(elapsed, 1),
                loss=float(np.mean(losses[-args.eval_every:])),
                # smallest per-iteration training usage of any region since
                # the last evaluation (softmax masks, batch mean)
                min_train_usage=min(min_usage[-args.eval_every:], default=None),
                tau=getattr(model.decode_head, 'tau', None),
                restarts=sum(getattr(h, 'restarts', 0) for h in hooks),
                raw=evaluate(model, it),
                ema=evaluate(ema.module, it))
            result['curve'].append(point)
            result['sec_per_iter'] = round(elapsed / it, 3)
            print(json.dumps(point), flush=True)
            dump_json_atomic(result, args.out)
    torch.save(
        dict(state_dict=ema.module.state_dict(), iter=args.iters),
        osp.splitext(args.out)[0] + '_ema.pth')


if __name__ == '__main__':
    main()
