# Copyright (c) mmfactdiff contributors. All rights reserved.
"""How much a factorized model's own regions help it denoise.

The label-free score behind checkpoint selection (``RegionGainMetric``):
images are noised to one level, and the shared decoder predicts the noise
twice from the same encoder features, once with the model's own regions
(the one-hot of the mask generator's argmax, the noise-free form of the
hard masks it trains with) and once with every pixel in one region (the
decoder is then an ordinary U-Net pass). A model whose regions follow
objects lowers the denoising loss with them; a collapsed one (every pixel
in one region) gains nothing. On the built-in data the gain at the
read-out's noise level ranks checkpoints as their foreground IoU does
(docs/emergence.md, section 6).
"""
from typing import Union

import torch
import torch.nn.functional as F
from torch import Tensor


@torch.no_grad()
def region_gain_losses(model, x0: Tensor, noise: Tensor,
                       t: Union[int, Tensor]) -> Tensor:
    """Per-image denoising losses with one region and with the own regions.

    Args:
        model: A ``FactorizedDiffusionSegmentor`` with one mask level (a
            hierarchical model is refused).
        x0 (Tensor): Clean preprocessed images (B, C, H, W).
        noise (Tensor): The noise to add, broadcastable to ``x0``.
        t (int | Tensor): Noise level, one for the batch or (B, ).

    Returns:
        Tensor: (B, 2) float32, column 0 the mean squared error of the
        one-region prediction, column 1 that of the own regions. The
        relative gain of a set of images is
        ``100 * (sum L_one - sum L_own) / sum L_one``.
    """
    if model.sub_mask_head is not None:
        raise ValueError(
            'region gain: hierarchical models (sub_mask_head) are not '
            'supported; remove RegionGainMetric from the evaluator')
    noise = noise.expand_as(x0).to(x0)
    b = x0.shape[0]
    tt = torch.as_tensor(t, device=x0.device).long().expand(b)
    x_t = model.scheduler.add_noise(x0, noise, tt)
    feats = model.extract_feat(x_t, tt, None)
    probs = model.region_masks(feats, x0.shape[-2:], sample=False)
    k = probs.shape[1]
    own = F.one_hot(probs.argmax(1), k).permute(0, 3, 1, 2).to(x0)
    one = torch.zeros_like(own)
    one[:, 0] = 1
    losses = []
    for masks in (one, own):
        err = (model.decoder(feats, masks).float() - noise.float())**2
        losses.append(err.flatten(1).mean(1))
    return torch.stack(losses, 1)
