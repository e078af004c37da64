# Copyright (c) mmfactdiff contributors. All rights reserved.
import math
from typing import Dict, Optional, Union

import torch
from torch import Tensor

from mmfactdiff.registry import DIFFUSION_SCHEDULERS
from .ddpm_noise_scheduler import DDPMNoiseScheduler


@DIFFUSION_SCHEDULERS.register_module()
class DDIMNoiseScheduler(DDPMNoiseScheduler):
    """DDIM sampling (Song et al., 2021) over the same noise schedule.

    Training (``add_noise``, ``sample_timesteps``) is the DDPM's; ``step``
    is the DDIM update, deterministic for ``eta=0``:
    ``x_prev = sqrt(a_prev) x0 + sqrt(1 - a_prev - s^2) eps + s z`` with
    ``s = eta * sqrt((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev))``.

    Args:
        eta (float): Stochasticity (0: DDIM, 1: DDPM-like variance).
            Defaults to 0.
        set_alpha_to_one (bool): Use alpha_cumprod = 1 after the last step
            (as diffusers' default); otherwise ``alphas_cumprod[0]``.
            Defaults to True.
        **kwargs: :class:`DDPMNoiseScheduler` arguments.
    """

    def __init__(self,
                 eta: float = 0.,
                 set_alpha_to_one: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.eta = eta
        self.final_alpha_cumprod = (
            torch.tensor(1., dtype=torch.float64)
            if set_alpha_to_one else self.alphas_cumprod[0])

    def _alpha_prev(self, prev_t: int) -> Tensor:
        return (self.alphas_cumprod[prev_t]
                if prev_t >= 0 else self.final_alpha_cumprod)

    def step(self,
             model_output: Tensor,
             timestep: Union[Tensor, int],
             sample: Tensor,
             eta: Optional[float] = None,
             generator: Optional[torch.Generator] = None,
             noise: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """One DDIM step x_t -> x_prev.

        Args:
            model_output (Tensor): Predicted epsilon.
            timestep (Tensor | int): Current timestep.
            sample (Tensor): x_t.
            eta (float, optional): Overrides the constructor's ``eta``.
            generator (torch.Generator, optional): For noise when eta > 0.
            noise (Tensor, optional): Use this noise instead of drawing it.

        Returns:
            dict: ``prev_sample`` and ``pred_original_sample``.
        """
        eta = self.eta if eta is None else eta
        t = int(timestep)
        acp_t = self.alphas_cumprod[t].item()
        acp_prev = self._alpha_prev(self.previous_timestep(t)).item()
        x0 = self._pred_x0(model_output, t, sample)
        variance = (1 - acp_prev) / (1 - acp_t) * (1 - acp_t / acp_prev)
        std = eta * math.sqrt(variance)
        prev = (
            math.sqrt(acp_prev) * x0 +
            math.sqrt(max(1 - acp_prev - std**2, 0.)) * model_output)
        if eta > 0:
            if noise is None:
                noise = self._noise_like(sample, generator)
            prev = prev + std * noise
        return dict(prev_sample=prev, pred_original_sample=x0)
