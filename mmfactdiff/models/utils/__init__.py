# Copyright (c) mmfactdiff contributors. All rights reserved.
from .cond_labels import labels_from_metas
from .input_checks import check_finite_images
from .kmeans import per_image_kmeans
from .loss_guard import NONFINITE_LOSS_MODES, LossGuard, nonfinite_terms
from .mask_ops import (MASK_RESIZE_MODES, MASK_SAMPLING_MODES, gumbel_noise,
                       mask_and_fold, mask_statistics, resize_masks,
                       sample_masks)
from .norm import group_norm
from .part_configs import TRUNK_KEYS, check_trunk, fill_part_config
from .region_gain import region_gain_losses
from .reverse_process import run_reverse_process
from .state_dict_checks import check_state_dict_shapes
from .unet_features import UNetFeatures

__all__ = [
    'MASK_RESIZE_MODES', 'MASK_SAMPLING_MODES', 'check_finite_images',
    'check_state_dict_shapes', 'LossGuard', 'mask_and_fold',
    'NONFINITE_LOSS_MODES', 'nonfinite_terms', 'mask_statistics',
    'resize_masks', 'sample_masks', 'gumbel_noise', 'group_norm',
    'UNetFeatures', 'TRUNK_KEYS', 'check_trunk', 'fill_part_config',
    'labels_from_metas', 'run_reverse_process', 'per_image_kmeans',
    'region_gain_losses'
]
