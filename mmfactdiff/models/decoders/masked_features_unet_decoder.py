# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Optional, Sequence

from torch import Tensor

from mmfactdiff.registry import MODELS
from .parallel_unet_decoder import ParallelUNetDecoder


@MODELS.register_module()
class MaskedFeaturesUNetDecoder(ParallelUNetDecoder):
    """Decoding ablation (b) of the paper (Table 6): the region's mask
    multiplies ``h_mid`` and every output block's features, and the skips
    enter unmasked.

    Weights are shared over regions and the K passes are folded into the
    batch, as in :class:`ParallelUNetDecoder`, whose arguments it takes.
    """

    def _region_pass(self, idx: int, skips: Sequence[Tensor], mid: Tensor,
                     emb: Optional[Tensor], mask: Tensor) -> Tensor:
        return self._run(idx, skips, mid, emb, feature_mask=mask)
