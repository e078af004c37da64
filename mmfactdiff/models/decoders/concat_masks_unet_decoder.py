# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Optional, Sequence

from torch import Tensor

from mmfactdiff.registry import MODELS
from .parallel_unet_decoder import ParallelUNetDecoder


@MODELS.register_module()
class ConcatMasksUNetDecoder(ParallelUNetDecoder):
    """Decoding ablation (a) of the paper (Table 6): one pass of one
    decoder, with the K masks concatenated to every block's input.

    There are no per-region outputs: ``forward_region(s)`` raise. Takes
    :class:`ParallelUNetDecoder`'s arguments; ``num_regions`` (K, filled in
    by the segmentor) is required and ``share_weights`` must stay True.
    """

    def __init__(self, *args, **kwargs) -> None:
        if not kwargs.get('num_regions'):
            raise ValueError('ConcatMasksUNetDecoder needs num_regions (the '
                             'masks it concatenates)')
        if not kwargs.get('share_weights', True):
            raise ValueError('ConcatMasksUNetDecoder is one decoder: '
                             'share_weights must be True')
        super().__init__(*args, **kwargs)

    def _extra_in_channels(self, num_regions: Optional[int]) -> int:
        return int(num_regions)

    def _region_pass(self, idx: int, skips: Sequence[Tensor], mid: Tensor,
                     emb: Optional[Tensor], mask: Tensor) -> Tensor:
        raise ValueError('ConcatMasksUNetDecoder has no per-region outputs')

    def forward(self,
                feats: Sequence[Tensor],
                masks: Tensor,
                emb: Optional[Tensor] = None) -> Tensor:
        """The noise prediction (B, C, H, W) of one pass that reads the
        masks (B, K, H, W) at every block."""
        skips, mid, emb = self._split(feats, emb)
        return self._run(0, skips, mid, emb, extra=masks)
