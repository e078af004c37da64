# Copyright (c) mmfactdiff contributors. All rights reserved.
from .ddim_noise_scheduler import DDIMNoiseScheduler
from .ddpm_noise_scheduler import DDPMNoiseScheduler

__all__ = ['DDIMNoiseScheduler', 'DDPMNoiseScheduler']
