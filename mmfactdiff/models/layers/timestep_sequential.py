# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Optional

import torch.nn as nn
from torch import Tensor


class TimestepSequential(nn.Sequential):
    """A sequence of blocks that all take ``(x, emb)``.

    Every layer in ``mmfactdiff.models.layers`` accepts an (optionally
    unused) embedding, so the embedding is passed to each child.
    """

    def forward(self, x: Tensor, emb: Optional[Tensor] = None) -> Tensor:
        for layer in self:
            x = layer(x, emb)
        return x
