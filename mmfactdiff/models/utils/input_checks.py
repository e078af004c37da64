# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Optional, Sequence

import torch
from torch import Tensor


def check_finite_images(
        inputs: Tensor,
        names: Optional[Sequence[Optional[str]]] = None) -> None:
    """Refuse images with NaN or infinite values before they are segmented.

    A non-finite pixel spreads through every convolution, and the argmax of
    NaN masks is region 0 everywhere: a silent, wrong answer.

    Args:
        inputs (Tensor): Preprocessed images (B, C, H, W).
        names (Sequence[str], optional): The images' file names (their
            ``img_path``), used in the error.

    Raises:
        ValueError: Naming every offending image (its file when known,
            else its index in the batch).
    """
    bad = ~torch.isfinite(inputs.flatten(1)).all(dim=1)
    if not bool(bad.any()):
        return
    which = [
        (names[i] if names is not None and names[i] else f'batch index {i}')
        for i in torch.nonzero(bad).flatten().tolist()
    ]
    raise ValueError(f'image(s) with NaN or infinite values: '
                     f'{", ".join(map(str, which))}; check how they were '
                     'decoded or converted (float images must be finite)')
