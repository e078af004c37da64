# Copyright (c) mmfactdiff contributors. All rights reserved.
import math

import torch.nn as nn


def group_norm(channels: int, num_groups: int = 32) -> nn.GroupNorm:
    """GroupNorm with the largest group count <= ``num_groups`` that divides
    ``channels``, so that the small widths used on CPUs still work."""
    return nn.GroupNorm(math.gcd(channels, num_groups), channels, eps=1e-6)
