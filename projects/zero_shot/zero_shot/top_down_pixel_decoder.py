# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import List, Sequence, Tuple

import torch.nn.functional as F
from torch import Tensor, nn


class TopDownPixelDecoder(nn.Module):
    """Per-pixel embeddings from a backbone's feature pyramid.

    Each level is projected to ``channels`` by a 1x1 conv (lateral), the
    coarser levels are upsampled and summed into the finest one (top-down),
    and a 3x3 conv gives the pixel embeddings: the small pixel decoder of
    the zero-shot heads (:class:`ZegFormerHead`,
    :class:`SegmentClassifierHead`).

    Args:
        in_channels (Sequence[int]): Widths of the levels, finest first.
        channels (int): Embedding width.
    """

    def __init__(self, in_channels: Sequence[int], channels: int) -> None:
        super().__init__()
        self.laterals = nn.ModuleList(
            nn.Conv2d(w, channels, 1) for w in in_channels)
        self.pixel_out = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, feats: Sequence[Tensor]) -> Tuple[List[Tensor], Tensor]:
        """The lateral projections of every level and the pixel embeddings
        (B, channels, h, w) at the finest level."""
        levels = [lateral(f) for lateral, f in zip(self.laterals, feats)]
        x = levels[-1]
        for lateral_x in levels[-2::-1]:
            x = lateral_x + F.interpolate(
                x,
                size=lateral_x.shape[-2:],
                mode='bilinear',
                align_corners=False)
        return levels, self.pixel_out(x)
