# Copyright (c) mmfactdiff contributors. All rights reserved.
"""How much the model's own regions help denoising, at each noise level.

For every ``iter_<n>.pth`` of each work directory and every ``--t``, the
first ``--num-images`` *training* images (pixels only, no labels) are
noised to t with fixed noise, and the decoder predicts the noise twice
from the same encoder features: once with the model's own regions (the
one-hot of the mask generator's argmax, the noise-free version of the
hard masks it trains with) and once with every pixel in one region (the
decoder is then an ordinary U-Net pass). The row (metric ``mask_gain``,
field ``t``) is the relative loss reduction of the own regions, in
percent: ``100 * (L_one - L_own) / L_one``. Positive: the factorization
lowers the denoising loss at that t, so the loss's gradient favours
regions there; negative: it favours one region (collapse). Method,
config, seed and device are copied from the run's ``fg_IoU`` rows in
``--out``. The losses are ``region_gain_losses`` of
``mmfactdiff.models.utils``, the function behind ``RegionGainMetric``.

    CFG=configs/factdiff/factdiff_unet-probe-k2_1xb32-1k_synthetic-32x32.py
    python projects/emergence_study/tools/mask_gain_by_t.py \\
        work_dirs/study/main-s3 --config $CFG \\
        --out docs/data/results/synthetic_shapes.json
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Sequence

import torch

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)
from record_results import (build_model_and_train_data, recorded_checkpoints,
                            update_results)

METRIC = 'mask_gain'
DEFAULT_T = (10, 30, 100, 200, 300, 500, 700, 900)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('work_dirs', nargs='+', help='work directories of runs')
    p.add_argument(
        '--config',
        required=True,
        help='config that builds the runs\' model and training data')
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
        default=64,
        help='training images (default 64)')
    p.add_argument(
        '--noise-seed', type=int, default=0, help='seed of the noise')
    return p.parse_args(argv)


@torch.no_grad()
def mask_gain(model,
              x0: torch.Tensor,
              timesteps: Sequence[int],
              seed: int = 0) -> Dict[int, float]:
    """``100 * (L_one - L_own) / L_one`` at each t (see the module doc).

    Args:
        model: A ``FactorizedDiffusionSegmentor`` with one mask level.
        x0 (Tensor): Clean images (B, C, H, W), the model's input range.
        timesteps (Sequence[int]): Noise levels.
        seed (int): Seed of the noise (one draw per t).
    """
    from mmfactdiff.models.utils import region_gain_losses
    was_training = model.training
    model.eval()
    out = {}
    for t in timesteps:
        g = torch.Generator().manual_seed(seed + int(t))
        noise = torch.randn(x0.shape, generator=g).to(x0)
        one, own = region_gain_losses(model, x0, noise, int(t)).sum(0)
        out[int(t)] = float(100 * (one - own) / one)
    model.train(was_training)
    return out


def main(argv=None) -> List[Dict]:
    args = parse_args(argv)
    from mmengine.runner import load_checkpoint

    model, dataset = build_model_and_train_data(args.config)
    samples = [dataset[i] for i in range(min(args.num_images, len(dataset)))]
    x0 = model.data_preprocessor(
        dict(
            inputs=[s['inputs'] for s in samples],
            data_samples=[s['data_samples'] for s in samples]))['inputs']
    new = []
    for run, row, ckpt in recorded_checkpoints(args.work_dirs, args.out):
        load_checkpoint(model, ckpt, map_location='cpu', strict=True)
        gains = mask_gain(model, x0, args.t, args.noise_seed)
        new += [
            dict(row, metric=METRIC, t=t, value=round(gain, 2))
            for t, gain in gains.items()
        ]
        print(f'{run} {row["iterations"]}: ' +
              ' '.join(f't{t}={g:+.1f}%' for t, g in gains.items()))
    total = update_results(args.out, new)
    print(f'{len(new)} rows -> {args.out} ({total} rows)')
    return new


if __name__ == '__main__':
    main()
