# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

MASK_SAMPLING_MODES = ('soft', 'gumbel')
MASK_RESIZE_MODES = ('area', 'bilinear')


def resize_masks(masks: Tensor,
                 size: Sequence[int],
                 mode: str = 'area') -> Tensor:
    """Resize soft masks (B, K, H, W) to ``size``.

    Args:
        masks (Tensor): Masks to resize.
        size (Sequence[int]): Target (h, w).
        mode (str): How to shrink: ``'area'`` averages over each target
            pixel's area, which keeps a partition of unity a partition of
            unity; ``'bilinear'`` interpolates (``align_corners=False``,
            no antialiasing: a factor-4 shrink reads only the middle 2x2 of
            every 4x4 block; masks still sum to one). Enlarging uses
            nearest with ``'area'`` and bilinear with ``'bilinear'``.
            Defaults to 'area'.
    """
    size = tuple(int(s) for s in size)
    if tuple(masks.shape[-2:]) == size:
        return masks
    if mode == 'bilinear':
        return F.interpolate(
            masks, size=size, mode='bilinear', align_corners=False)
    if mode != 'area':
        raise ValueError(f'mask resize mode must be one of '
                         f'{MASK_RESIZE_MODES}, got {mode!r}')
    if size[0] <= masks.shape[-2] and size[1] <= masks.shape[-1]:
        return F.adaptive_avg_pool2d(masks, size)
    return F.interpolate(masks, size=size, mode='nearest')


def mask_and_fold(feats: Sequence[Tensor],
                  masks: Tensor,
                  resize_mode: str = 'area') -> List[Tensor]:
    """Each feature map masked by every region, regions folded into batch.

    ``f`` (B, C, h, w) becomes ``f * resize(m_k)`` for every k, stacked
    sample-major as (B*K, C, h, w), the order of ``flatten(0, 1)`` and of
    ``repeat_interleave(K, dim=0)`` for the unmasked inputs. ``resize_mode``
    is :func:`resize_masks`' ``mode``.
    """
    folded = []
    for f in feats:
        m = resize_masks(masks, f.shape[-2:], resize_mode)
        folded.append((f[:, None] * m[:, :, None]).flatten(0, 1))
    return folded


def gumbel_noise(logits: Tensor, noise_stride: int = 1) -> Tensor:
    """Gumbel(0, 1) noise shaped like ``logits`` (B, K, H, W).

    Args:
        logits (Tensor): Region logits; the noise takes their shape, dtype
            and device.
        noise_stride (int): Draw once per ``noise_stride x noise_stride``
            block (nearest upsampling); 1 draws per pixel. Defaults to 1.

    Returns:
        Tensor: ``-log(-log(u))`` with ``u`` uniform, clamped to
        ``[1e-6, 1 - 1e-6]`` so that log() stays finite in low precision.
    """
    if noise_stride > 1:
        h, w = logits.shape[-2:]
        small = logits.new_empty(*logits.shape[:2], -(-h // noise_stride),
                                 -(-w // noise_stride)).uniform_()
        u = small.repeat_interleave(noise_stride,
                                    -2).repeat_interleave(noise_stride,
                                                          -1)[..., :h, :w]
    else:
        u = torch.rand_like(logits)
    return -torch.log(-torch.log(u.clamp(1e-6, 1. - 1e-6)))


def sample_masks(logits: Tensor,
                 mode: str = 'soft',
                 tau: float = 1.0,
                 training: bool = True,
                 noise_stride: int = 1) -> Tensor:
    """Turn region logits (B, K, H, W) into masks that sum to one over K.

    Args:
        logits (Tensor): Region logits.
        mode (str): ``'soft'``: softmax (the paper's form).
            ``'gumbel'``: straight-through Gumbel: the forward value is the
            one-hot of ``argmax(logits + g)`` with Gumbel noise ``g``, the
            gradient is that of ``softmax((logits + g) / tau)``.
            Defaults to 'soft'.
        tau (float): Gumbel-softmax temperature. Defaults to 1.
        training (bool): Outside training, every mode returns the
            deterministic softmax. Defaults to True.
        noise_stride (int): Draw the Gumbel noise once per
            ``noise_stride x noise_stride`` block (nearest upsampling), so
            that the sampled hard masks are spatially coherent blobs rather
            than independent per-pixel draws. 1 is the standard per-pixel
            Gumbel-softmax. Defaults to 1.

    Returns:
        Tensor: Masks (B, K, H, W).
    """
    if mode not in MASK_SAMPLING_MODES:
        raise ValueError(f'mask sampling mode must be one of '
                         f'{MASK_SAMPLING_MODES}, got {mode!r}')
    if mode == 'soft' or not training:
        return logits.softmax(dim=1)
    y = (logits + gumbel_noise(logits, noise_stride)) / tau
    soft = y.softmax(dim=1)
    hard = F.one_hot(y.argmax(dim=1), logits.shape[1]).permute(0, 3, 1,
                                                               2).to(soft)
    return hard + soft - soft.detach()


def mask_statistics(probs: Tensor) -> dict:
    """Statistics of mask probabilities (B, K, H, W), as log variables.

    Returned by the segmentor's ``loss`` beside the loss (keys without
    ``'loss'``: mmengine logs them, passes them to hooks as ``outputs`` and
    does not back-propagate them).

    Returns:
        dict: ``mask/usage_k`` (batch-mean mask of region k; the usages sum
        to 1), ``mask/entropy`` (mean per-pixel entropy: log K when
        uniform, 0 when one-hot) and ``mask/spatial_std`` (mean over images
        and regions of the std over pixels; 0 when the masks ignore the
        image).
    """
    p = probs.detach().float()
    stats = {f'mask/usage_{k}': u for k, u in enumerate(p.mean(dim=(0, 2, 3)))}
    stats['mask/entropy'] = -(p.clamp_min(1e-8).log() * p).sum(1).mean()
    stats['mask/spatial_std'] = p.std(dim=(2, 3)).mean()
    return stats
