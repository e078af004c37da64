# Copyright (c) mmfactdiff contributors. All rights reserved.
from .diffusion_sampling_mixin import DiffusionSamplingMixin
from .factorized_diffusion_segmentor import FactorizedDiffusionSegmentor

__all__ = ['DiffusionSamplingMixin', 'FactorizedDiffusionSegmentor']
