# Copyright (c) mmfactdiff contributors. All rights reserved.
from .backbones import DiffusionUNetEncoder
from .decode_heads import MaskGeneratorHead
from .decoders import (ConcatMasksUNetDecoder, MaskedFeaturesUNetDecoder,
                       ParallelUNetDecoder)
from .layers import (Downsample, SpatialSelfAttention, TimestepEmbedding,
                     TimestepResBlock, TimestepSequential, UNetDecoderTrunk,
                     Upsample, sinusoidal_embedding)
from .losses import DenoisingMSELoss
from .schedulers import DDIMNoiseScheduler, DDPMNoiseScheduler
from .segmentors import FactorizedDiffusionSegmentor
from .utils import (MASK_SAMPLING_MODES, UNetFeatures, group_norm,
                    resize_masks, sample_masks)

__all__ = [
    'DiffusionUNetEncoder', 'MaskGeneratorHead', 'ConcatMasksUNetDecoder',
    'MaskedFeaturesUNetDecoder', 'ParallelUNetDecoder', 'Downsample',
    'SpatialSelfAttention', 'TimestepEmbedding', 'TimestepResBlock',
    'TimestepSequential', 'UNetDecoderTrunk', 'Upsample',
    'sinusoidal_embedding', 'DenoisingMSELoss', 'DDIMNoiseScheduler',
    'DDPMNoiseScheduler', 'FactorizedDiffusionSegmentor',
    'MASK_SAMPLING_MODES', 'UNetFeatures', 'group_norm', 'resize_masks',
    'sample_masks'
]
