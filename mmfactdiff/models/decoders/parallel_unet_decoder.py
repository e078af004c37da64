# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmfactdiff.registry import MODELS
from ..layers import UNetDecoderTrunk
from ..utils import MASK_RESIZE_MODES, group_norm, resize_masks


@MODELS.register_module()
class ParallelUNetDecoder(BaseModule):
    """Weight-shared decoder run once per region, K folded into the batch.

    For every region k it decodes the shared bottleneck ``h_mid`` with the
    skips masked by ``m_k`` (resized to each skip by area averaging) into a
    noise prediction ``eps_k``; the output is ``sum_k m_k * eps_k``. The K
    passes are one pass over a batch of B*K samples, numerically the same as
    K separate passes with the same weights.

    This is the paper's decoder (Table 6 d). Its decoding ablations are
    small subclasses or a switch:

    - :class:`ConcatMasksUNetDecoder` (a): one pass of one decoder; the K
      masks are concatenated to every block's input.
    - :class:`MaskedFeaturesUNetDecoder` (b): shared weights; skips
      unmasked, ``h_mid`` and every output block's features multiplied by
      ``m_k``.
    - ``share_weights=False`` (c): K decoders with their own weights,
      masked skips.

    Subclasses change how one pass decodes its region
    (:meth:`_region_pass`) or the whole forward.

    Args:
        in_channels (Sequence[int]): Widths of the encoder features, skips
            first, bottleneck last. Filled by the segmentor when None.
        in_strides (Sequence[int]): Their strides. Filled likewise.
        channels (int): Base width. Defaults to 128.
        channel_mults (Sequence[int]): Width multiplier per level.
            Defaults to (1, 2, 2, 2).
        out_channels (int): Output channels (the image's). Defaults to 3.
        num_regions (int, optional): K; the segmentor fills it in. Required
            by ``share_weights=False`` and :class:`ConcatMasksUNetDecoder`.
            Defaults to None.
        share_weights (bool): One decoder for all regions (the paper);
            False builds K decoders with their own weights (Table 6 c).
            Defaults to True.
        attention_strides (Sequence[int]): Strides with self-attention.
            Defaults to () (none; the ADM configs state theirs).
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
                 num_regions: Optional[int] = None,
                 share_weights: bool = True,
                 attention_strides: Sequence[int] = (),
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
        if not share_weights and not num_regions:
            raise ValueError(f'{type(self).__name__}: share_weights=False '
                             'builds one decoder per region and needs '
                             'num_regions')
        if mask_resize not in MASK_RESIZE_MODES:
            raise ValueError(f'mask_resize must be one of {MASK_RESIZE_MODES}'
                             f', got {mask_resize!r}')
        self.share_weights = share_weights
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
                extra_in_channels=self._extra_in_channels(num_regions),
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

        n = 1 if share_weights else num_regions
        self.decoders = nn.ModuleList([build() for _ in range(n)])

    def _extra_in_channels(self, num_regions: Optional[int]) -> int:
        """Channels concatenated to every block's input (none here)."""
        return 0

    def _run(self, idx: int, skips: Sequence[Tensor], mid: Tensor,
             emb: Optional[Tensor], **kwargs) -> Tensor:
        dec = self.decoders[idx]
        return dec['out'](dec['trunk'](skips, mid, emb, **kwargs))

    def _split(self, feats: Sequence[Tensor], emb: Optional[Tensor]):
        emb = getattr(feats, 'emb', None) if emb is None else emb
        if self.emb_channels and emb is None:
            raise ValueError('ParallelUNetDecoder was built with '
                             'emb_channels but got no embedding')
        return list(feats[:-1]), feats[-1], (
            emb if self.emb_channels else None)

    def _region_pass(self, idx: int, skips: Sequence[Tensor], mid: Tensor,
                     emb: Optional[Tensor], mask: Tensor) -> Tensor:
        """One pass of decoder ``idx`` for the region whose mask (N, 1, H, W)
        is ``mask``: here the skips are masked (the paper)."""
        skips = [
            s * resize_masks(mask, s.shape[-2:], self.mask_resize)
            for s in skips
        ]
        return self._run(idx, skips, mid, emb)

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
                ``share_weights=False``). Defaults to 0.

        Returns:
            Tensor: (B, C, H, W).
        """
        skips, mid, emb = self._split(feats, emb)
        idx = 0 if self.share_weights else region
        return self._region_pass(idx, skips, mid, emb, mask)

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
        b, k = masks.shape[:2]
        if not self.share_weights:
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

        out = self._region_pass(0, [fold(s) for s in skips], fold(mid),
                                None if emb is None else fold(emb),
                                masks.flatten(0, 1)[:, None])
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
        eps = self.forward_regions(feats, masks, emb)
        m = resize_masks(masks, eps.shape[-2:])
        return (m[:, :, None] * eps).sum(dim=1)
