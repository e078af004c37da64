# Copyright (c) mmfactdiff contributors. All rights reserved.
from .concat_masks_unet_decoder import ConcatMasksUNetDecoder
from .masked_features_unet_decoder import MaskedFeaturesUNetDecoder
from .parallel_unet_decoder import ParallelUNetDecoder

__all__ = [
    'ConcatMasksUNetDecoder', 'MaskedFeaturesUNetDecoder',
    'ParallelUNetDecoder'
]
