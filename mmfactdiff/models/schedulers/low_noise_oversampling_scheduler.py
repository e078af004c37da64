# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Optional, Union

import torch
from torch import Tensor

from mmfactdiff.registry import DIFFUSION_SCHEDULERS
from mmfactdiff.utils import check_int
from .ddpm_noise_scheduler import DDPMNoiseScheduler


@DIFFUSION_SCHEDULERS.register_module()
class LowNoiseOversamplingScheduler(DDPMNoiseScheduler):
    """The DDPM schedule with training timesteps drawn more often at low
    noise (not in the paper; the main job's default on the built-in data:
    with it, runs reach higher foreground IoU, docs/emergence.md).

    Why: at high noise the mask generator puts every pixel in one region
    (the objects are not visible), so most of what the shared decoder
    learns from is whole images; regions are used only at low noise. If
    the decoder's growing skill on whole images is what erodes the
    regions' advantage until runs collapse, training it more often on the
    low-noise images, where it sees masked ones, should delay that. As
    measured it does not stop collapse, but runs reach higher scores on
    the way, which checkpoint selection by ``RegionGainMetric`` keeps
    (docs/emergence.md, sections 5 and 6).

    :meth:`sample_timesteps` draws each timestep from ``[0, low_t_max)``
    with probability ``low_t_prob``, otherwise uniformly from ``[0, T)``.
    Every timestep keeps a nonzero probability, so the model still learns
    to denoise (and sample) at every noise level; the loss is reweighted
    towards low noise. Sampling is the parent's.

    Args:
        low_t_max (int): End (exclusive) of the oversampled range; in
            ``[1, T]``.
        low_t_prob (float): Probability of drawing from it, in ``[0, 1]``.
        **kwargs: :class:`DDPMNoiseScheduler` arguments.
    """

    def __init__(self,
                 low_t_max: int = 200,
                 low_t_prob: float = 0.5,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        check_int(low_t_max, 'low_t_max', 1)
        if low_t_max > self.num_train_timesteps:
            raise ValueError(
                f'low_t_max={low_t_max} exceeds the number of timesteps '
                f'({self.num_train_timesteps})')
        if not 0. <= low_t_prob <= 1.:
            raise ValueError(f'low_t_prob must lie in [0, 1], got '
                             f'{low_t_prob}')
        self.low_t_max = low_t_max
        self.low_t_prob = float(low_t_prob)

    def sample_timesteps(
            self,
            batch_size: int,
            device: Union[str, torch.device, None] = None,
            generator: Optional[torch.Generator] = None) -> Tensor:
        """Timesteps (B, ): a ``low_t_prob`` share from ``[0, low_t_max)``,
        the rest uniform over ``[0, T)``."""
        t = super().sample_timesteps(batch_size, None, generator)
        gen_device = generator.device if generator is not None else 'cpu'
        low = torch.randint(
            0,
            self.low_t_max, (batch_size, ),
            generator=generator,
            device=gen_device)
        pick = torch.rand(
            batch_size, generator=generator,
            device=gen_device) < self.low_t_prob
        t = torch.where(pick, low, t)
        return t.to(device) if device is not None else t
