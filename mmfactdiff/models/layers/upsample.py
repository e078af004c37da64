# Copyright (c) mmfactdiff contributors. All rights reserved.
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


class Upsample(nn.Module):
    """Nearest-neighbour upsampling by an integer factor, then a 3x3 conv.

    Args:
        channels (int): Feature width (unchanged).
        scale_factor (int): Upsampling factor. Defaults to 2.
        use_conv (bool): Follow with a learned 3x3 conv. Defaults to True.
    """

    def __init__(self,
                 channels: int,
                 scale_factor: int = 2,
                 use_conv: bool = True) -> None:
        super().__init__()
        self.scale_factor = scale_factor
        self.conv = nn.Conv2d(
            channels, channels, 3, padding=1) if use_conv else nn.Identity()

    def forward(self, x: Tensor, emb: Tensor = None) -> Tensor:
        """Upsample ``x``; ``emb`` is accepted and unused."""
        x = F.interpolate(x, scale_factor=self.scale_factor, mode='nearest')
        return self.conv(x)
