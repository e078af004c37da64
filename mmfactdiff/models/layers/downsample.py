# Copyright (c) mmfactdiff contributors. All rights reserved.
import torch.nn as nn
from torch import Tensor


class Downsample(nn.Module):
    """Halve the resolution: stride-2 3x3 conv, or 2x2 average pooling.

    Args:
        channels (int): Feature width (unchanged).
        use_conv (bool): Learned stride-2 conv instead of pooling.
            Defaults to True.
    """

    def __init__(self, channels: int, use_conv: bool = True) -> None:
        super().__init__()
        self.op = (
            nn.Conv2d(channels, channels, 3, stride=2, padding=1)
            if use_conv else nn.AvgPool2d(2))

    def forward(self, x: Tensor, emb: Tensor = None) -> Tensor:
        """Downsample ``x``; ``emb`` is accepted and unused."""
        return self.op(x)
