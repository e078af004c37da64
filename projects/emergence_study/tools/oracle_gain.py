# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Does the objective reward the figure/ground factorization on a dataset?

Two runs trained alike are compared: a factorized model whose decoder was
trained on the ground-truth figure/ground regions (``OracleMaskSegmentor``)
and a plain U-Net (the same network with K = 1). The first
``--num-images`` training images (random transforms left out) are noised
to each ``--t`` with the same noise, and each model predicts the noise:
the oracle with the images' own figure/ground masks, the plain U-Net with
one region. The row (metric ``oracle_gain``, field ``t``) is
``100 * (L_plain - L_oracle) / L_plain``: how much decoding object and
background separately lowers the denoising loss, with regions that
are known instead of learnt. Near 0 or negative, the loss gives the mask
generator little reason to find the objects (a learnt partition need not
be figure/ground, so this is not a bound on the model's own region gain,
``mask_gain_by_t.py``). The two runs are separate networks: differences
of about a point are within what another pair of seeds gives. The oracle
reads labels: the rows are a diagnostic (``labels_used``: the size of the
labelled training set it drew from), not a method. Weights are the
checkpoints' ``state_dict`` (raw: the configs have no EMA).

    python projects/emergence_study/tools/oracle_gain.py \\
        --oracle-config $ORACLE --oracle-checkpoint $O/iter_1000.pth \\
        --plain-config $PLAIN --plain-checkpoint $P/iter_1000.pth \\
        --dataset weizmann_horse --method "oracle regions vs plain" \\
        --seed 1 --out docs/data/results/weizmann_horse.json
"""
import argparse
import os
import os.path as osp
import platform
import sys
from typing import Dict, List, Sequence, Tuple

import torch
from mmengine.config import Config
from torch import nn

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)
from record_results import (REPO, build_model, checkpoint_iteration,
                            update_results)

METRIC = 'oracle_gain'
DEFAULT_T = (10, 30, 100, 200, 300)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    for name in ('oracle', 'plain'):
        p.add_argument(
            f'--{name}-config',
            required=True,
            help=f'the {name} run\'s config')
        p.add_argument(
            f'--{name}-checkpoint',
            required=True,
            help=f'the {name} run\'s checkpoint')
    p.add_argument('--dataset', required=True, help='dataset name of rows')
    p.add_argument('--method', required=True, help='method name of rows')
    p.add_argument(
        '--seed', type=int, required=True, help='training seed of the runs')
    p.add_argument('--out', required=True, help='results JSON to update')
    p.add_argument(
        '--t',
        type=int,
        nargs='+',
        default=list(DEFAULT_T),
        help=f'noise levels (default {" ".join(map(str, DEFAULT_T))})')
    p.add_argument(
        '--num-images',
        type=int,
        default=128,
        help='training images (default 128)')
    p.add_argument(
        '--noise-seed', type=int, default=0, help='seed of the noise')
    return p.parse_args(argv)


def _build(config: str, checkpoint: str) -> Tuple[nn.Module, Config]:
    """The model of ``config`` with ``checkpoint`` loaded, in eval mode,
    and the config."""
    from mmengine.runner import load_checkpoint

    model, cfg = build_model(config)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.eval(), cfg


def fixed_train_data(cfg: Config, num_images: int) -> Tuple[List[dict], int]:
    """The first images of a config's training set, with their labels.

    Args:
        cfg (Config): The oracle run's config.
        num_images (int): How many images (fewer if the set is smaller).

    Returns:
        tuple: The packed samples (the pipeline's ``Random*`` transforms,
        flips and crops, left out, so that images and labels stay as
        loaded) and the training set's size.
    """
    from mmseg.registry import DATASETS
    dataset_cfg = cfg.train_dataloader.dataset.copy()
    dataset_cfg.pipeline = [
        t for t in dataset_cfg.pipeline if not t['type'].startswith('Random')
    ]
    dataset = DATASETS.build(dataset_cfg)
    n = min(num_images, len(dataset))
    return [dataset[i] for i in range(n)], len(dataset)


@torch.no_grad()
def oracle_gain(oracle: nn.Module,
                plain: nn.Module,
                samples: List[dict],
                timesteps: Sequence[int],
                seed: int = 0) -> Dict[int, float]:
    """``100 * (L_plain - L_oracle) / L_plain`` at each t (module doc).

    Args:
        oracle (nn.Module): An ``OracleMaskSegmentor`` (eval mode).
        plain (nn.Module): A ``FactorizedDiffusionSegmentor`` with K = 1
            (eval mode).
        samples (list[dict]): Packed samples with ``gt_sem_seg``.
        timesteps (Sequence[int]): Noise levels.
        seed (int): Seed of the noise (one draw per t).

    Returns:
        dict[int, float]: The gain in percent, by t.

    Raises:
        ValueError: If the plain model's K is not 1.
    """
    if plain.decode_head.num_classes != 1:
        raise ValueError('the plain run must have K = 1 (decode_head.'
                         f'num_classes), got {plain.decode_head.num_classes}')
    data = oracle.data_preprocessor(
        dict(
            inputs=[s['inputs'] for s in samples],
            data_samples=[s['data_samples'] for s in samples]), False)
    x0, data_samples = data['inputs'], data['data_samples']
    masks = oracle.oracle_masks(data_samples, x0.shape[-2:]).to(x0)
    one = torch.ones_like(masks[:, :1])
    out = {}
    for t in timesteps:
        g = torch.Generator().manual_seed(seed + int(t))
        noise = torch.randn(x0.shape, generator=g).to(x0)
        tt = torch.full((x0.shape[0], ), int(t), dtype=torch.long)
        losses = []
        for model, m in ((plain, one), (oracle, masks)):
            x_t = model.scheduler.add_noise(x0, noise, tt)
            eps = model.decoder(model.extract_feat(x_t, tt, None), m)
            losses.append(float(((eps.float() - noise)**2).mean()))
        out[int(t)] = 100 * (losses[0] - losses[1]) / losses[0]
    return out


def main(argv=None) -> List[Dict]:
    """Compare the two runs and write the rows; returns the new rows."""
    args = parse_args(argv)
    oracle, cfg = _build(args.oracle_config, args.oracle_checkpoint)
    plain, _ = _build(args.plain_config, args.plain_checkpoint)
    samples, num_train = fixed_train_data(cfg, args.num_images)
    gains = oracle_gain(oracle, plain, samples, args.t, args.noise_seed)
    device = (f'CPU ({platform.processor() or platform.machine()}, '
              f'{os.cpu_count()} cores)')
    base = dict(
        dataset=args.dataset,
        method=args.method,
        config=osp.relpath(args.oracle_config, REPO),
        plain_config=osp.relpath(args.plain_config, REPO),
        cfg_options=None,
        seed=args.seed,
        labels_used=num_train,
        weights='raw',
        device=device,
        metric=METRIC,
        iterations=checkpoint_iteration(args.oracle_checkpoint),
        plain_iterations=checkpoint_iteration(args.plain_checkpoint),
        num_images=len(samples))
    new = [dict(base, t=t, value=round(g, 2)) for t, g in gains.items()]
    print(' '.join(f't{t}={g:+.2f}%' for t, g in gains.items()))
    total = update_results(args.out, new)
    print(f'{len(new)} rows -> {args.out} ({total} rows)')
    return new


if __name__ == '__main__':
    main()
