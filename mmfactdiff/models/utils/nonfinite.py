# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Dict

import torch

NONFINITE_LOSS_MODES = ('stop', 'skip')


def nonfinite_terms(losses: Dict[str, torch.Tensor]) -> Dict[str, float]:
    """The loss terms (keys with ``'loss'``) holding NaN or inf, with their
    mean values."""
    return {
        k: float(v.detach().float().mean())
        for k, v in losses.items()
        if 'loss' in k and not torch.isfinite(v).all()
    }
