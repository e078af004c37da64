# Copyright (c) mmfactdiff contributors. All rights reserved.
import math
from typing import Optional, Sequence

import torch
import torch.nn as nn
from torch import Tensor

from ..utils.mask_ops import resize_masks
from .spatial_self_attention import SpatialSelfAttention
from .timestep_res_block import TimestepResBlock
from .timestep_sequential import TimestepSequential
from .upsample import Upsample

BLOCK_WIDTHS = ('level', 'skip')


class UNetDecoderTrunk(nn.Module):
    """The second half of a U-Net, for any list of skip features.

    Skips are consumed last-in first-out, one output block per skip (as in
    ADM, where the output blocks consume every input block's output once):
    ``h = Block(cat(h, skip))``. Before a block whose skip is finer than
    ``h``, ``h`` is upsampled. With ``block_width='level'`` a block consuming
    a skip at stride ``s`` has width ``base_channels *
    channel_mults[level(s)]`` where ``level(s) = log2(s / min(skip_strides))``;
    with the skips of a :class:`DiffusionUNetEncoder` this reproduces ADM's
    output blocks exactly, and with a ResNet's multi-scale features it is a
    U-Net decoder over them. With ``block_width='skip'`` every block is as
    wide as the skip it consumes (the encoder mirrored).

    Args:
        skip_channels (Sequence[int]): Widths of the skips, shallow first
            (encoder order).
        skip_strides (Sequence[int]): Their strides w.r.t. the input.
        mid_channels (int): Width of the bottleneck feature ``h_mid``.
        mid_stride (int): Stride of ``h_mid``.
        base_channels (int): Base width.
        channel_mults (Sequence[int]): Width multiplier per level.
        attention_strides (Sequence[int]): Strides at which blocks get
            self-attention. Defaults to ().
        emb_channels (int, optional): Timestep embedding width; None builds
            blocks without embedding input. Defaults to None.
        num_heads (int): Attention heads. Defaults to 4.
        num_head_channels (int): Width per head (-1: use ``num_heads``).
            Defaults to -1.
        dropout (float): Dropout in residual blocks. Defaults to 0.
        use_scale_shift_norm (bool): ADM's scale-shift conditioning.
            Defaults to True.
        conv_resample (bool): Learned conv after upsampling.
            Defaults to True.
        num_groups (int): GroupNorm groups. Defaults to 32.
        extra_in_channels (int): Width of an extra map (e.g. the K masks)
            resized and concatenated to every block's input. Defaults to 0.
        emb_act (bool): SiLU before each block's embedding projection
            (ADM). Defaults to True.
        zero_init_residual (bool): Zero-initialise the last conv of every
            residual block (ADM). Defaults to True.
        block_width (str): ``'level'`` (ADM) or ``'skip'``, see above.
            Defaults to 'level'.
        with_cp (bool): Gradient checkpointing. Defaults to False.
    """

    def __init__(self,
                 skip_channels: Sequence[int],
                 skip_strides: Sequence[int],
                 mid_channels: int,
                 mid_stride: int,
                 base_channels: int,
                 channel_mults: Sequence[int],
                 attention_strides: Sequence[int] = (),
                 emb_channels: Optional[int] = None,
                 num_heads: int = 4,
                 num_head_channels: int = -1,
                 dropout: float = 0.,
                 use_scale_shift_norm: bool = True,
                 conv_resample: bool = True,
                 num_groups: int = 32,
                 extra_in_channels: int = 0,
                 emb_act: bool = True,
                 zero_init_residual: bool = True,
                 block_width: str = 'level',
                 with_cp: bool = False) -> None:
        super().__init__()
        if block_width not in BLOCK_WIDTHS:
            raise ValueError(f'block_width must be one of {BLOCK_WIDTHS}, '
                             f'got {block_width!r}')
        if len(skip_channels) != len(skip_strides) or not skip_channels:
            raise ValueError(
                'skip_channels and skip_strides must be non-empty and of the '
                f'same length, got {list(skip_channels)} and '
                f'{list(skip_strides)}')
        min_stride = min(skip_strides)
        self.extra_in_channels = extra_in_channels
        unused = sorted(set(attention_strides) - set(skip_strides))
        if unused:
            raise ValueError(
                f'attention_strides {unused} are not strides of this U-Net '
                f'half (its blocks run at {sorted(set(skip_strides))}); '
                'remove them or add levels')
        self.blocks = nn.ModuleList()
        self.upsamples = nn.ModuleList()
        cur_ch, cur_stride = mid_channels, mid_stride
        for skip_ch, stride in zip(
                reversed(skip_channels), reversed(skip_strides)):
            if stride > cur_stride:
                raise ValueError(
                    f'skips must not get coarser towards the output: a skip '
                    f'at stride {stride} follows stride {cur_stride}')
            if stride < cur_stride:
                factor = cur_stride // stride
                if factor * stride != cur_stride:
                    raise ValueError(f'stride {cur_stride} is not an integer'
                                     f' multiple of {stride}')
                self.upsamples.append(
                    Upsample(cur_ch, factor, use_conv=conv_resample))
                cur_stride = stride
            else:
                self.upsamples.append(nn.Identity())
            level = round(math.log2(stride / min_stride))
            if level >= len(channel_mults):
                raise ValueError(
                    f'a skip at stride {stride} is at level {level}, but '
                    f'channel_mults={list(channel_mults)} has only '
                    f'{len(channel_mults)} levels')
            out_ch = (
                skip_ch if block_width == 'skip' else base_channels *
                channel_mults[level])
            layers = [
                TimestepResBlock(
                    cur_ch + skip_ch + extra_in_channels,
                    out_ch,
                    emb_channels,
                    dropout=dropout,
                    use_scale_shift_norm=use_scale_shift_norm,
                    num_groups=num_groups,
                    emb_act=emb_act,
                    zero_init=zero_init_residual,
                    with_cp=with_cp)
            ]
            if stride in attention_strides:
                layers.append(
                    SpatialSelfAttention(
                        out_ch,
                        num_heads,
                        num_head_channels,
                        num_groups=num_groups,
                        with_cp=with_cp))
            self.blocks.append(TimestepSequential(*layers))
            cur_ch = out_ch
        self.out_channels = cur_ch

    def forward(self,
                skips: Sequence[Tensor],
                mid: Tensor,
                emb: Optional[Tensor] = None,
                extra: Optional[Tensor] = None,
                feature_mask: Optional[Tensor] = None) -> Tensor:
        """Run the output blocks.

        Args:
            skips (Sequence[Tensor]): Skip features, shallow first.
            mid (Tensor): Bottleneck feature.
            emb (Tensor, optional): Embedding (B, E).
            extra (Tensor, optional): (B, extra_in_channels, H, W) map
                concatenated (resized) to every block's input.
            feature_mask (Tensor, optional): (B, 1, H, W) mask multiplied
                into ``mid`` and every block's output (decoding ablation
                "masked intermediate features").

        Returns:
            Tensor: Output of the last block, (B, out_channels, h, w).
        """
        if len(skips) != len(self.blocks):
            raise ValueError(f'expected {len(self.blocks)} skips, got '
                             f'{len(skips)}')
        if (extra is None) != (self.extra_in_channels == 0):
            raise ValueError('extra must be given iff extra_in_channels > 0')
        h = mid
        if feature_mask is not None:
            h = h * resize_masks(feature_mask, h.shape[-2:])
        skips = list(skips)
        for block, upsample in zip(self.blocks, self.upsamples):
            skip = skips.pop()
            h = upsample(h)
            parts = [h, skip]
            if extra is not None:
                parts.append(resize_masks(extra, skip.shape[-2:]))
            h = block(torch.cat(parts, dim=1), emb)
            if feature_mask is not None:
                h = h * resize_masks(feature_mask, h.shape[-2:])
        return h
