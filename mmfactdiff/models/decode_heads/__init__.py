# Copyright (c) mmfactdiff contributors. All rights reserved.
from .mask_generator_head import MaskGeneratorHead

__all__ = ['MaskGeneratorHead']
