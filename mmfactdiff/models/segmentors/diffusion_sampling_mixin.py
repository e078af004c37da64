# Copyright (c) mmfactdiff contributors. All rights reserved.
import copy
from typing import Dict, Optional, Sequence, Union

import torch
from torch import Tensor

from mmfactdiff.registry import DIFFUSION_SCHEDULERS
from ..utils import run_reverse_process


class DiffusionSamplingMixin:
    """Generation (``sample``) for a segmentor that is a diffusion model.

    Kept apart from the segmentation read-out: the segmentor provides
    ``denoise(x_t, t, labels) -> (eps_hat, masks)``, ``scheduler`` (the
    training noise scheduler), ``backbone.in_channels``, ``test_cfg``
    (``img_size``) and ``cond_label_key``; this mixin runs the reverse
    process with them.
    """

    @torch.no_grad()
    def sample(self,
               num_samples: int,
               img_size: Optional[Union[int, Sequence[int]]] = None,
               num_steps: Optional[int] = None,
               scheduler: Union[None, dict, object] = None,
               labels: Optional[Tensor] = None,
               generator: Optional[torch.Generator] = None,
               progress: bool = False) -> Dict[str, Tensor]:
        """Generate images and their region masks.

        Args:
            num_samples (int): Number of images.
            img_size (int | tuple, optional): Output size; defaults to
                ``test_cfg.img_size``.
            num_steps (int, optional): Sampling steps; defaults to T.
            scheduler (dict | object, optional): A sampling scheduler (a
                config for ``DIFFUSION_SCHEDULERS``, or any object with
                mmagic/diffusers-style ``set_timesteps`` / ``timesteps`` /
                ``step``); defaults to the training scheduler (DDPM).
            labels (Tensor, optional): Class labels (N, ) for
                class-conditional models.
            generator (torch.Generator, optional): Seeds the whole chain.
            progress (bool): Show a progress bar. Defaults to False.

        Returns:
            dict: ``images`` (N, C, H, W) in the model's input space
            (``[-1, 1]``) and ``masks`` (N, K, H, W) read at the last step.
        """
        if scheduler is None:
            scheduler = copy.deepcopy(self.scheduler)
        elif isinstance(scheduler, dict):
            scheduler = DIFFUSION_SCHEDULERS.build(scheduler)
        size = img_size if img_size is not None else self.test_cfg.get(
            'img_size', None)
        if size is None:
            raise ValueError('sample() needs img_size (or test_cfg.img_size)')
        if isinstance(size, int):
            size = (size, size)
        if (labels is None) != (self.cond_label_key is None):
            raise ValueError('labels are required exactly for '
                             'class-conditional models')
        device = next(self.parameters()).device
        scheduler.set_timesteps(num_steps or len(self.scheduler))
        shape = (num_samples, self.backbone.in_channels, *size)
        gen_device = generator.device if generator is not None else 'cpu'
        x = torch.randn(
            shape, generator=generator, device=gen_device).to(device)
        return run_reverse_process(self.denoise, scheduler, x, labels,
                                   generator, progress)
