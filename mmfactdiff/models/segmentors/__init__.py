# Copyright (c) mmfactdiff contributors. All rights reserved.
from .factorized_diffusion_segmentor import FactorizedDiffusionSegmentor

__all__ = ['FactorizedDiffusionSegmentor']
