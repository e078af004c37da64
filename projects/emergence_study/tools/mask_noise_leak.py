# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Do a model's region masks follow the diffusion noise instead of the
image? A diagnostic for the factorized model's segmentation read-out.

The mask generator sees the noised image ``x_t``. In training, the
partition it outputs selects which decoder pass predicts each pixel's
noise, so a partition that encodes the noise itself (say, region 1 where
the noise is positive) can lower the denoising loss without following any
object: the masks become a side channel for the noise. This tool measures
how much of the masks' variation is explained by the noise draw:

- ``draw_agreement``: fraction of pixels whose arg-max region is the same
  under two different noise draws at the read-out level ``t`` (mean over
  pairs of draws). 1 means the read-out ignores the draw.
- ``noise_r``: per region, the multiple correlation (R, 0 to 1) between the
  region's centred logit and the C noise channels at the same pixel, after
  removing each pixel's mean over the draws (so the image content drops
  out and only the draw-to-draw change is left). With ``N`` pixels in all,
  R of a mask that ignores the noise is about ``sqrt(C / N)`` (printed as
  ``chance_r``).

It deliberately reads below the segmentor's read-out
(``predict_regions`` averages probabilities over draws shared by the
batch; this tool needs each draw's logits and its per-image noise).

It reads the config's validation images (no labels) and a checkpoint of
``tools/train.py`` (``--weights ema`` or ``raw``, as ``tools/sample.py``),
loaded strictly::

    python projects/emergence_study/tools/mask_noise_leak.py CONFIG \\
        CHECKPOINT --num-images 64 --draws 4 --weights raw
"""
import argparse
import itertools
import json

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='model config')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--weights',
        choices=['ema', 'raw'],
        default='ema',
        help='which copy of a tools/train.py checkpoint')
    parser.add_argument('--num-images', type=int, default=64)
    parser.add_argument(
        '--draws',
        type=int,
        default=4,
        help='noise draws per image (at least 2)')
    parser.add_argument(
        '--t',
        type=int,
        default=None,
        help='noise level (default: the test_cfg t)')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the noise draws')
    parser.add_argument('--threads', type=int, default=0)
    parser.add_argument('--out', help='also write the result (JSON) here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    if args.draws < 2:
        parser.error('--draws must be at least 2')
    if args.num_images < 1:
        parser.error('--num-images must be at least 1')
    return args


def multiple_r(y: torch.Tensor, x: torch.Tensor) -> float:
    """Multiple correlation of ``y`` (N, ) on the columns of ``x`` (N, C),
    both already centred."""
    coef = torch.linalg.lstsq(x, y[:, None]).solution
    fitted = (x @ coef)[:, 0]
    return float(fitted.norm() / y.norm().clamp_min(1e-12))


@torch.no_grad()
def measure(model, inputs: torch.Tensor, t: int, draws: int,
            seed: int) -> dict:
    """The leak statistics of ``model`` on preprocessed ``inputs``."""
    gen = torch.Generator().manual_seed(seed)
    steps = torch.full((len(inputs), ), t, dtype=torch.long)
    logits, noises = [], []
    for _ in range(draws):
        noise = torch.randn(inputs.shape, generator=gen)
        x_t = model.scheduler.add_noise(inputs, noise, steps)
        feats = model.extract_feat(x_t, steps)
        out = model.decode_head(feats).float()
        if out.shape[-2:] != inputs.shape[-2:]:
            out = torch.nn.functional.interpolate(
                out, inputs.shape[-2:], mode='bilinear', align_corners=False)
        logits.append(out - out.mean(1, keepdim=True))
        noises.append(noise)
    logits, noises = torch.stack(logits), torch.stack(noises)
    labels = logits.argmax(2)
    agreement = np.mean([
        float((labels[a] == labels[b]).float().mean())
        for a, b in itertools.combinations(range(draws), 2)
    ])
    # keep only the draw-to-draw change at every pixel
    logits = logits - logits.mean(0, keepdim=True)
    noises = noises - noises.mean(0, keepdim=True)
    c = noises.shape[2]
    x = noises.permute(0, 1, 3, 4, 2).reshape(-1, c)
    num_regions = logits.shape[2]
    r = [
        multiple_r(logits[:, :, k].reshape(-1), x) for k in range(num_regions)
    ]
    # centring over draws leaves (draws - 1) free values per pixel
    n = (draws - 1) * labels[0].numel()
    return dict(
        t=t,
        draws=draws,
        num_images=len(inputs),
        draw_agreement=round(agreement, 4),
        noise_r=[round(v, 4) for v in r],
        chance_r=round(float(np.sqrt(c / n)), 4))


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.out:
        from mmfactdiff.utils import ensure_writable
        ensure_writable(args.out, '--out')
    if args.threads:
        torch.set_num_threads(args.threads)
    from mmseg.registry import DATASETS

    from mmfactdiff.apis import init_factdiff_model
    from mmfactdiff.utils import dump_json_atomic
    config, checkpoint = args.config, args.checkpoint
    cfg = Config.fromfile(config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = init_factdiff_model(
        cfg, checkpoint, weights=args.weights, strict=True)
    val_set = DATASETS.build(cfg.val_dataloader.dataset)
    n = min(args.num_images, len(val_set))
    data = model.data_preprocessor(
        dict(pseudo_collate([val_set[i] for i in range(n)])), False)
    t = int(args.t if args.t is not None else model.test_cfg.t)
    result = dict(config=config, checkpoint=checkpoint)
    result.update(measure(model, data['inputs'], t, args.draws, args.seed))
    print(json.dumps(result))
    if args.out:
        dump_json_atomic(result, args.out)
    return result


if __name__ == '__main__':
    main()
