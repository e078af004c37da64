# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmfactdiff.registry import MODELS
from ..layers import UNetDecoderTrunk
from ..utils import (MASK_RESIZE_MODES, group_norm, mask_and_fold,
                     resize_masks)

DECODING_MODES = ('masked_skips', 'concat_masks', 'masked_features',
                  'unshared')


@MODELS.register_module()
class ParallelUNetDecoder(BaseModule):
    """Weight-shared decoder run once per region, K folded into the batch.

    For every region k it decodes the shared bottleneck ``h_mid`` with the
    skips masked by ``m_k`` (resized to each skip by area averaging) into a
    noise prediction ``eps_k``; the output is ``sum_k m_k * eps_k``. The K
    passes are one pass over a batch of B*K samples, numerically the same as
    K separate passes with the same weights.

    ``mode`` selects the paper's decoding ablations (Table 6):

    - ``'masked_skips'`` (d, default): shared weights, masked skips.
    - ``'concat_masks'`` (a): one pass of one decoder; the K masks are
      concatenated to every block's input; no per-region outputs.
    - ``'masked_features'`` (b): shared weights; skips unmasked, ``h_mid``
      and every output block's features multiplied by ``m_k``.
    - ``'unshared'`` (c): K decoders with their own weights, masked skips.

    Args:
        in_channels (Sequence[int]): Widths of the encoder features, skips
            first, bottleneck last. Filled by the segmentor when None.
        in_strides (Sequence[int]): Their strides. Filled likewise.
        channels (int): Base width. Defaults to 128.
        channel_mults (Sequence[int]): Width multiplier per level.
            Defaults to (1, 2, 2, 2).
        out_channels (int): Output channels (the image's). Defaults to 3.
        mode (str): Decoding scheme, see above. Defaults to 'masked_skips'.
        num_regions (int, optional): K; required by ``'concat_masks'`` and
            ``'unshared'``. Defaults to None.
        attention_strides (Sequence[int]): Strides with self-attention.
            Defaults to (16, ).
        emb_channels (int, optional): Timestep embedding width.
            Defaults to None.
        num_heads (int): Attention heads. Defaults to 4.
        num_head_channels (int): Width per head. Defaults to -1.
        dropout (float): Dropout in residual blocks. Defaults to 0.
        use_scale_shift_norm (bool): Scale-shift conditioning.
            Defaults to True.
        conv_resample (bool): Learned conv after upsampling.
            Defaults to True.
        num_groups (int): GroupNorm groups. Defaults to 32.
        emb_act (bool): SiLU before each residual block's embedding
            projection (ADM). Defaults to True.
        zero_init_residual (bool): Zero-initialise the last conv of every
            residual block (ADM). Defaults to True.
        block_width (str): Output block widths: ``'level'`` (ADM) or
            ``'skip'`` (as wide as the skip each block consumes).
            Defaults to 'level'.
        zero_init_out (bool): Zero-initialise the output conv, so that
            ``eps_hat`` starts at 0 (ADM). Defaults to True.
        mask_resize (str): How the masks are brought to each skip's
            resolution: ``'area'`` (area averaging; a partition of unity
            stays one) or ``'bilinear'``. Defaults to 'area'.
        with_cp (bool): Gradient checkpointing. Defaults to False.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 in_channels: Optional[Sequence[int]] = None,
                 in_strides: Optional[Sequence[int]] = None,
                 channels: int = 128,
                 channel_mults: Sequence[int] = (1, 2, 2, 2),
                 out_channels: int = 3,
                 mode: str = 'masked_skips',
                 num_regions: Optional[int] = None,
                 attention_strides: Sequence[int] = (16, ),
                 emb_channels: Optional[int] = None,
                 num_heads: int = 4,
                 num_head_channels: int = -1,
                 dropout: float = 0.,
                 use_scale_shift_norm: bool = True,
                 conv_resample: bool = True,
                 num_groups: int = 32,
                 emb_act: bool = True,
                 zero_init_residual: bool = True,
                 block_width: str = 'level',
                 zero_init_out: bool = True,
                 mask_resize: str = 'area',
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if in_channels is None or in_strides is None:
            raise ValueError('ParallelUNetDecoder needs in_channels and '
                             'in_strides (FactorizedDiffusionSegmentor fills '
                             'them in from its backbone)')
        if mode not in DECODING_MODES:
            raise ValueError(f'mode must be one of {DECODING_MODES}, got '
                             f'{mode!r}')
        if mode in ('concat_masks', 'unshared') and not num_regions:
            raise ValueError(f"mode '{mode}' needs num_regions")
        if mask_resize not in MASK_RESIZE_MODES:
            raise ValueError(f'mask_resize must be one of {MASK_RESIZE_MODES}'
                             f', got {mask_resize!r}')
        self.mode = mode
        self.mask_resize = mask_resize
        self.num_regions = num_regions
        self.emb_channels = emb_channels

        def build():
            trunk = UNetDecoderTrunk(
                skip_channels=in_channels[:-1],
                skip_strides=in_strides[:-1],
                mid_channels=in_channels[-1],
                mid_stride=in_strides[-1],
                base_channels=channels,
                channel_mults=channel_mults,
                attention_strides=attention_strides,
                emb_channels=emb_channels,
                num_heads=num_heads,
                num_head_channels=num_head_channels,
                dropout=dropout,
                use_scale_shift_norm=use_scale_shift_norm,
                conv_resample=conv_resample,
                num_groups=num_groups,
                extra_in_channels=num_regions
                if mode == 'concat_masks' else 0,
                emb_act=emb_act,
                zero_init_residual=zero_init_residual,
                block_width=block_width,
                with_cp=with_cp)
            out = nn.Sequential(
                group_norm(trunk.out_channels, num_groups), nn.SiLU(),
                nn.Conv2d(trunk.out_channels, out_channels, 3, padding=1))
            if zero_init_out:
                # ADM: eps_hat starts at 0
                nn.init.zeros_(out[-1].weight)
                nn.init.zeros_(out[-1].bias)
            return nn.ModuleDict(dict(trunk=trunk, out=out))

        n = num_regions if mode == 'unshared' else 1
        self.decoders = nn.ModuleList([build() for _ in range(n)])

    def _run(self, idx: int, skips: Sequence[Tensor], mid: Tensor,
             emb: Optional[Tensor], **kwargs) -> Tensor:
        dec = self.decoders[idx]
        return dec['out'](dec['trunk'](skips, mid, emb, **kwargs))

    def _split(self, feats: Sequence[Tensor], emb: Optional[Tensor]):
        emb = getattr(feats, 'emb', None) if emb is None else emb
        if self.emb_channels and emb is None:
            raise ValueError('ParallelUNetDecoder was built with '
                             'emb_channels but got no embedding')
        return list(feats[:-1]), feats[-1], (emb if self.emb_channels else
                                             None)

    def forward_region(self,
                       feats: Sequence[Tensor],
                       mask: Tensor,
                       emb: Optional[Tensor] = None,
                       region: int = 0) -> Tensor:
        """One region's output ``eps_k`` from ONE unfolded pass.

        Args:
            feats (Sequence[Tensor]): Encoder features, bottleneck last.
            mask (Tensor): The region's mask (B, 1, H, W).
            emb (Tensor, optional): Embedding; default ``feats.emb``.
            region (int): Region index (selects the decoder when
                ``mode='unshared'``). Defaults to 0.

        Returns:
            Tensor: (B, C, H, W).
        """
        if self.mode == 'concat_masks':
            raise ValueError("mode 'concat_masks' has no per-region outputs")
        skips, mid, emb = self._split(feats, emb)
        idx = region if self.mode == 'unshared' else 0
        if self.mode == 'masked_features':
            return self._run(idx, skips, mid, emb, feature_mask=mask)
        skips = [
            s * resize_masks(mask, s.shape[-2:], self.mask_resize)
            for s in skips
        ]
        return self._run(idx, skips, mid, emb)

    def forward_regions(self,
                        feats: Sequence[Tensor],
                        masks: Tensor,
                        emb: Optional[Tensor] = None) -> Tensor:
        """All regions' outputs (B, K, C, H, W), K folded into the batch.

        Args:
            feats (Sequence[Tensor]): Encoder features, bottleneck last.
            masks (Tensor): Region masks (B, K, H, W).
            emb (Tensor, optional): Embedding; default ``feats.emb``.
        """
        if self.mode == 'concat_masks':
            raise ValueError("mode 'concat_masks' has no per-region outputs")
        b, k = masks.shape[:2]
        if self.mode == 'unshared':
            if k != self.num_regions:
                raise ValueError(f'built for {self.num_regions} regions, got '
                                 f'{k} masks')
            outs = [
                self.forward_region(feats, masks[:, i:i + 1], emb, i)
                for i in range(k)
            ]
            return torch.stack(outs, dim=1)
        skips, mid, emb = self._split(feats, emb)

        def fold(x: Tensor) -> Tensor:
            # (B, ...) -> (B*K, ...), sample-major like flatten(0, 1)
            return x.repeat_interleave(k, dim=0)

        emb_f = None if emb is None else fold(emb)
        if self.mode == 'masked_features':
            out = self._run(0, [fold(s) for s in skips], fold(mid), emb_f,
                            feature_mask=masks.flatten(0, 1)[:, None])
        else:
            out = self._run(0, mask_and_fold(skips, masks, self.mask_resize),
                            fold(mid), emb_f)
        return out.unflatten(0, (b, k))

    def forward(self,
                feats: Sequence[Tensor],
                masks: Tensor,
                emb: Optional[Tensor] = None) -> Tensor:
        """The combined prediction ``sum_k m_k * eps_k`` (B, C, H, W).

        Args:
            feats (Sequence[Tensor]): Encoder features, bottleneck last
                (a :class:`UNetFeatures` carries the embedding).
            masks (Tensor): Region masks (B, K, H, W), summing to one.
            emb (Tensor, optional): Embedding; default ``feats.emb``.
        """
        if self.mode == 'concat_masks':
            skips, mid, emb = self._split(feats, emb)
            return self._run(0, skips, mid, emb, extra=masks)
        eps = self.forward_regions(feats, masks, emb)
        m = resize_masks(masks, eps.shape[-2:])
        return (m[:, :, None] * eps).sum(dim=1)
