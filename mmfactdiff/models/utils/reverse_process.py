# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Callable, Dict, Optional, Tuple

import torch
from torch import Tensor

#: ``denoise(x_t, t, labels) -> (eps_hat, masks)``
DenoiseFn = Callable[[Tensor, Tensor, Optional[Tensor]], Tuple[Tensor, Tensor]]


def run_reverse_process(denoise: DenoiseFn,
                        scheduler,
                        x: Tensor,
                        labels: Optional[Tensor] = None,
                        generator: Optional[torch.Generator] = None,
                        progress: bool = False) -> Dict[str, Tensor]:
    """Run a sampling scheduler's steps from ``x`` (the prior draw).

    Args:
        denoise (Callable): ``denoise(x_t, t, labels)`` returning the noise
            prediction and the region masks (the segmentor's ``denoise``).
        scheduler: A scheduler whose ``set_timesteps`` was called (mmagic /
            diffusers style ``timesteps`` and ``step``).
        x (Tensor): x_T (N, C, H, W).
        labels (Tensor, optional): Class labels of a conditional model.
        generator (torch.Generator, optional): Passed to ``step``.
        progress (bool): Show a progress bar. Defaults to False.

    Returns:
        dict: ``images`` (the last ``prev_sample``) and ``masks`` (those of
        the last step; None when there were no steps).
    """
    steps = scheduler.timesteps
    if progress:
        from mmengine.utils import track_iter_progress
        steps = track_iter_progress(list(steps))
    masks = None
    for t in steps:
        t_batch = torch.full((x.shape[0], ), int(t), device=x.device)
        eps, masks = denoise(x, t_batch, labels)
        x = scheduler.step(eps, t, x, generator=generator)['prev_sample']
    return dict(images=x, masks=masks)
