# Copyright (c) mmfactdiff contributors. All rights reserved.
from .parallel_unet_decoder import DECODING_MODES, ParallelUNetDecoder

__all__ = ['DECODING_MODES', 'ParallelUNetDecoder']
