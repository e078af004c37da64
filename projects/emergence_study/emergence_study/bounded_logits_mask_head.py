# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Sequence

import torch
from torch import Tensor

from mmfactdiff.models import MaskGeneratorHead
from mmfactdiff.registry import MODELS


@MODELS.register_module()
class BoundedLogitsMaskHead(MaskGeneratorHead):
    """A collapse remedy of the emergence study (not in the paper): the
    mask generator's logits centred over the regions at every pixel (which
    leaves their softmax unchanged) and squashed into ``[-bound, bound]``
    by ``bound * tanh(logits / bound)``.

    With K = 2 no region's probability can fall below
    ``sigmoid(-2 * bound)`` anywhere, so the straight-through Gumbel
    samples keep visiting a region that lost every pixel and its gradient
    never fades to zero, whereas saturated logits of a collapsed generator
    give the empty region neither samples nor gradient. With K = 2 the
    centred logits are ``+-d / 2`` (``d`` their difference), so the argmax,
    and so the read-out, is unchanged even where tanh saturates.

    Args:
        bound (float): Largest absolute logit. Defaults to 3.0.
        **kwargs: :class:`MaskGeneratorHead` arguments.
    """

    def __init__(self, bound: float = 3.0, **kwargs) -> None:
        super().__init__(**kwargs)
        if not bound > 0:
            raise ValueError(f'BoundedLogitsMaskHead: bound must be > 0, '
                             f'got {bound!r}')
        self.bound = float(bound)

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        """Region logits (B, K, h, w), each in ``[-bound, bound]``."""
        logits = super().forward(inputs)
        logits = logits - logits.mean(dim=1, keepdim=True)
        return self.bound * torch.tanh(logits / self.bound)
