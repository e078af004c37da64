# Copyright (c) mmfactdiff contributors. All rights reserved.
import torch.nn as nn

PADDING_MODES = ('zeros', 'reflect', 'replicate', 'circular')


def set_conv_padding(module: nn.Module, mode: str) -> int:
    """Set the padding mode of every padded ``nn.Conv2d`` in ``module``.

    ``nn.Conv2d`` reads ``padding_mode`` in its forward pass, so changing
    it after construction is the same as building the layer with it. Zero
    padding tells a network where the image border is; the other modes
    do not (a flat image stays flat through every layer).

    Args:
        module (nn.Module): The model, changed in place.
        mode (str): One of ``PADDING_MODES``.

    Returns:
        int: The number of convolutions changed.
    """
    if mode not in PADDING_MODES:
        raise ValueError(
            f'padding_mode must be one of {PADDING_MODES}, got {mode!r}')
    count = 0
    for m in module.modules():
        if not isinstance(m, nn.Conv2d):
            continue
        padded = (m.padding == 'same' if isinstance(m.padding, str) else
                  any(p > 0 for p in m.padding))
        if padded:
            m.padding_mode = mode
            count += 1
    return count
