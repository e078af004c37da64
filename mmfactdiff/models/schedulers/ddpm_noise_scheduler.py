# Copyright (c) mmfactdiff contributors. All rights reserved.
import math
from typing import Dict, Optional, Union

import torch
from torch import Tensor

from mmfactdiff.registry import DIFFUSION_SCHEDULERS

BETA_SCHEDULES = ('linear', 'cosine')
VARIANCE_TYPES = ('fixed_small', 'fixed_large')


def cosine_betas(num_timesteps: int,
                 max_beta: float = 0.999,
                 s: float = 0.008) -> Tensor:
    """Betas of the cosine schedule (Nichol & Dhariwal, 2021), float64."""

    def alpha_bar(t):
        return math.cos((t / num_timesteps + s) / (1 + s) * math.pi / 2)**2

    return torch.tensor([
        min(1 - alpha_bar(i + 1) / alpha_bar(i), max_beta)
        for i in range(num_timesteps)
    ],
                        dtype=torch.float64)


@DIFFUSION_SCHEDULERS.register_module()
class DDPMNoiseScheduler:
    """DDPM noise schedule, for training (noising) and ancestral sampling.

    Training: :meth:`sample_timesteps` draws uniform timesteps and
    :meth:`add_noise` computes ``sqrt(a_t) x0 + sqrt(1 - a_t) eps`` with a
    different ``t`` per sample. Sampling: :meth:`set_timesteps` and
    :meth:`step` follow the call convention of mmagic's and diffusers'
    schedulers (``step(model_output, timestep, sample, generator=...)``
    returning a mapping with ``'prev_sample'``), so a loop written for one
    works with the others. With fewer inference steps than training steps,
    the timesteps are evenly strided ("leading" spacing as in diffusers) and
    each step uses the effective beta between its two timesteps.

    The schedule is kept as float64 CPU tensors and gathered on the device
    and dtype of the inputs, so one scheduler serves any device.

    Args:
        num_train_timesteps (int): T. Defaults to 1000.
        beta_schedule (str): ``'linear'`` (DDPM, endpoints as given, not
            rescaled by 1000/T) or ``'cosine'`` (improved DDPM).
            Defaults to 'linear'.
        beta_start (float): First beta of the linear schedule.
            Defaults to 1e-4.
        beta_end (float): Last beta of the linear schedule. Defaults to 0.02.
        clip_sample (bool): Clip the predicted x0 to
            ``[-clip_sample_range, clip_sample_range]`` while sampling.
            Defaults to True.
        clip_sample_range (float): See ``clip_sample``. Defaults to 1.
        variance_type (str): Reverse-process variance: ``'fixed_small'``
            (posterior variance beta-tilde) or ``'fixed_large'`` (beta).
            Defaults to 'fixed_small'.
    """

    init_noise_sigma = 1.0

    def __init__(self,
                 num_train_timesteps: int = 1000,
                 beta_schedule: str = 'linear',
                 beta_start: float = 1e-4,
                 beta_end: float = 0.02,
                 clip_sample: bool = True,
                 clip_sample_range: float = 1.0,
                 variance_type: str = 'fixed_small') -> None:
        if beta_schedule not in BETA_SCHEDULES:
            raise ValueError(f'beta_schedule must be one of {BETA_SCHEDULES}'
                             f', got {beta_schedule!r}')
        if variance_type not in VARIANCE_TYPES:
            raise ValueError(f'variance_type must be one of {VARIANCE_TYPES}'
                             f', got {variance_type!r}')
        if num_train_timesteps < 1:
            raise ValueError('num_train_timesteps must be >= 1')
        self.num_train_timesteps = num_train_timesteps
        self.beta_schedule = beta_schedule
        self.clip_sample = clip_sample
        self.clip_sample_range = clip_sample_range
        self.variance_type = variance_type
        if beta_schedule == 'linear':
            self.betas = torch.linspace(
                beta_start, beta_end, num_train_timesteps, dtype=torch.float64)
        else:
            self.betas = cosine_betas(num_train_timesteps)
        self.alphas = 1. - self.betas
        self.alphas_cumprod = torch.cumprod(self.alphas, dim=0)
        self.num_inference_steps: Optional[int] = None
        self.timesteps = torch.arange(num_train_timesteps).flip(0)

    def __len__(self) -> int:
        return self.num_train_timesteps

    # -- training -----------------------------------------------------------
    def sample_timesteps(
            self,
            batch_size: int,
            device: Union[str, torch.device, None] = None,
            generator: Optional[torch.Generator] = None) -> Tensor:
        """Uniform timesteps in ``[0, T)``, shape (B, ), on ``device``."""
        gen_device = generator.device if generator is not None else 'cpu'
        t = torch.randint(
            0,
            self.num_train_timesteps, (batch_size, ),
            generator=generator,
            device=gen_device)
        return t.to(device) if device is not None else t

    def _gather(self, values: Tensor, timesteps: Union[Tensor, int],
                like: Tensor) -> Tensor:
        """``values[t]`` shaped to broadcast over ``like`` (B, ...)."""
        if not torch.is_tensor(timesteps):
            timesteps = torch.tensor([timesteps])
        t = timesteps.detach().to('cpu', torch.long).reshape(-1)
        if t.numel() not in (1, like.shape[0]):
            raise ValueError(f'got {t.numel()} timesteps for a batch of '
                             f'{like.shape[0]}')
        if (t < 0).any() or (t >= self.num_train_timesteps).any():
            raise ValueError(f'timesteps must lie in [0, '
                             f'{self.num_train_timesteps}), got {t.tolist()}')
        out = values[t].to(device=like.device, dtype=like.dtype)
        return out.reshape(-1, *([1] * (like.dim() - 1)))

    def add_noise(self, original_samples: Tensor, noise: Tensor,
                  timesteps: Union[Tensor, int]) -> Tensor:
        """q(x_t | x_0): ``sqrt(a_t) x0 + sqrt(1 - a_t) noise``.

        Args:
            original_samples (Tensor): x0, (B, ...).
            noise (Tensor): Gaussian noise, same shape.
            timesteps (Tensor | int): One timestep per sample (B, ), or one
                for all.
        """
        acp = self._gather(self.alphas_cumprod, timesteps, original_samples)
        return acp.sqrt() * original_samples + (1 - acp).sqrt() * noise

    # -- sampling -----------------------------------------------------------
    def set_timesteps(self,
                      num_inference_steps: int,
                      device: Union[str, torch.device, None] = None) -> None:
        """Use ``num_inference_steps`` evenly strided timesteps, descending.
        """
        if not 1 <= num_inference_steps <= self.num_train_timesteps:
            raise ValueError(
                f'num_inference_steps must be in [1, '
                f'{self.num_train_timesteps}], got {num_inference_steps}')
        self.num_inference_steps = num_inference_steps
        ratio = self.num_train_timesteps // num_inference_steps
        self.timesteps = (torch.arange(num_inference_steps) *
                          ratio).flip(0).to(device or 'cpu')

    def previous_timestep(self, timestep: int) -> int:
        """The timestep after ``timestep`` in the sampling chain (-1 at
        the end)."""
        n = self.num_inference_steps or self.num_train_timesteps
        return int(timestep) - self.num_train_timesteps // n

    def _alpha_prev(self, prev_t: int) -> Tensor:
        return (self.alphas_cumprod[prev_t] if prev_t >= 0 else torch.tensor(
            1., dtype=torch.float64))

    def _pred_x0(self, model_output: Tensor, timestep: int,
                 sample: Tensor) -> Tensor:
        acp_t = self.alphas_cumprod[timestep].item()
        x0 = (sample - math.sqrt(1 - acp_t) * model_output) / math.sqrt(acp_t)
        if self.clip_sample:
            x0 = x0.clamp(-self.clip_sample_range, self.clip_sample_range)
        return x0

    @staticmethod
    def _noise_like(sample: Tensor,
                    generator: Optional[torch.Generator]) -> Tensor:
        device = generator.device if generator is not None else sample.device
        return torch.randn(
            sample.shape,
            generator=generator,
            device=device,
            dtype=sample.dtype).to(sample.device)

    def step(self,
             model_output: Tensor,
             timestep: Union[Tensor, int],
             sample: Tensor,
             generator: Optional[torch.Generator] = None,
             noise: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """One ancestral step x_t -> x_{t-1} from the predicted noise.

        Args:
            model_output (Tensor): Predicted epsilon.
            timestep (Tensor | int): Current timestep (one for the batch).
            sample (Tensor): x_t.
            generator (torch.Generator, optional): For the step's noise.
            noise (Tensor, optional): Use this noise instead of drawing it.

        Returns:
            dict: ``prev_sample``, ``pred_original_sample``, ``mean`` and
            ``variance`` (the reverse-process variance).
        """
        t = int(timestep)
        prev_t = self.previous_timestep(t)
        acp_t = self.alphas_cumprod[t].item()
        acp_prev = self._alpha_prev(prev_t).item()
        beta_t = 1 - acp_t / acp_prev  # effective beta over the stride
        x0 = self._pred_x0(model_output, t, sample)
        mean = (
            math.sqrt(acp_prev) * beta_t / (1 - acp_t) * x0 +
            math.sqrt(1 - beta_t) * (1 - acp_prev) / (1 - acp_t) * sample)
        if self.variance_type == 'fixed_small':
            variance = max((1 - acp_prev) / (1 - acp_t) * beta_t, 1e-20)
        else:
            variance = beta_t
        prev = mean
        if t > 0:
            if noise is None:
                noise = self._noise_like(sample, generator)
            prev = mean + math.sqrt(variance) * noise
        return dict(
            prev_sample=prev,
            pred_original_sample=x0,
            mean=mean,
            variance=torch.tensor(variance))

    def scale_model_input(self,
                          sample: Tensor,
                          timestep: Union[Tensor, int, None] = None) -> Tensor:
        """Identity (diffusers API compatibility)."""
        return sample

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(T={self.num_train_timesteps}, '
                f'beta_schedule={self.beta_schedule!r})')
