# Copyright (c) mmfactdiff contributors. All rights reserved.
from .diffusion_unet_encoder import DiffusionUNetEncoder

__all__ = ['DiffusionUNetEncoder']
