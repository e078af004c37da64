# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Helpers shared by mmfactdiff's training hooks."""
from typing import Dict, List, Sequence, Tuple

import torch.nn as nn
from mmengine.model import is_model_wrapper


def unwrap_model(runner) -> nn.Module:
    """The runner's model without its DDP / FSDP wrapper."""
    model = runner.model
    return model.module if is_model_wrapper(model) else model


def regions_below(since: Dict[int, int], usage: Sequence[float],
                  min_usage: float, it: int) -> List[Tuple[int, float, int]]:
    """Track how long each region's usage has stayed below ``min_usage``.

    ``since`` maps a region to the iteration at which it went below the
    threshold; it is updated in place (entries of recovered regions are
    dropped).

    Returns:
        list: ``(region, usage, iterations below)`` for every region
        currently below the threshold.
    """
    low = []
    for k, u in enumerate(usage):
        if u < min_usage:
            low.append((k, u, it - since.setdefault(k, it)))
        else:
            since.pop(k, None)
    return low
