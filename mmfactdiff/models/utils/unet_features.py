# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Iterable, Optional

from torch import Tensor


class UNetFeatures(tuple):
    """The output of a diffusion U-Net encoder: a tuple of feature maps.

    It is an ordinary tuple ``(skip_1, ..., skip_L, h_mid)`` (shallow first,
    bottleneck last), so stock mmseg heads can select from it with
    ``in_index``, and it carries the timestep embedding as ``.emb`` for heads
    that are conditioned on it (``None`` if the encoder gives none).
    """

    emb: Optional[Tensor]

    def __new__(cls, feats: Iterable[Tensor], emb: Optional[Tensor] = None):
        obj = super().__new__(cls, feats)
        obj.emb = emb
        return obj

    def __reduce__(self):
        return (UNetFeatures, (tuple(self), self.emb))

    @property
    def skips(self) -> tuple:
        """The skip features, shallow first."""
        return tuple(self[:-1])

    @property
    def mid(self) -> Tensor:
        """The bottleneck feature ``h_mid``."""
        return self[-1]
