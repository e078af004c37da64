# Copyright (c) mmfactdiff contributors. All rights reserved.
from .downsample import Downsample
from .spatial_self_attention import SpatialSelfAttention
from .timestep_embedding import TimestepEmbedding, sinusoidal_embedding
from .timestep_res_block import TimestepResBlock
from .timestep_sequential import TimestepSequential
from .unet_decoder_trunk import UNetDecoderTrunk
from .upsample import Upsample

__all__ = [
    'Downsample', 'SpatialSelfAttention', 'TimestepEmbedding',
    'sinusoidal_embedding', 'TimestepResBlock', 'TimestepSequential',
    'UNetDecoderTrunk', 'Upsample'
]
