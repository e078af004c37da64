# Copyright (c) mmfactdiff contributors. All rights reserved.
from .ddim_noise_scheduler import DDIMNoiseScheduler
from .ddpm_noise_scheduler import DDPMNoiseScheduler
from .low_noise_oversampling_scheduler import LowNoiseOversamplingScheduler

__all__ = [
    'DDIMNoiseScheduler', 'DDPMNoiseScheduler', 'LowNoiseOversamplingScheduler'
]
