# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Modules of the emergence study: the label-free baselines that the
factorized model is measured against, as mmseg segmentors, and the
collapse remedies that measured no better than training without them
(the collapse guard, low-noise mask gradients, the region usage floor,
restarting the mask generator's output, masks drawn by a slow teacher),
kept to reproduce their rows. Oversampling low noise levels measured
better and moved to the package (``LowNoiseOversamplingScheduler`` of
``mmfactdiff.models.schedulers``)."""
from .bounded_logits_mask_head import BoundedLogitsMaskHead
from .collapse_guard_hook import (CollapseGuardHook,
                                  mean_smallest_region_share,
                                  smallest_region_share)
from .colour_kmeans_segmentor import ColourKMeansSegmentor
from .label_free_segmentor import LabelFreeSegmentor
from .low_noise_mask_grad_segmentor import LowNoiseMaskGradSegmentor
from .prior_mask_segmentor import PriorMaskSegmentor
from .region_restart_hook import RegionRestartHook
from .region_usage_floor_loss import RegionUsageFloorLoss
from .teacher_mask_segmentor import TeacherMaskSegmentor

__all__ = [
    'BoundedLogitsMaskHead', 'CollapseGuardHook', 'ColourKMeansSegmentor',
    'LabelFreeSegmentor', 'LowNoiseMaskGradSegmentor', 'PriorMaskSegmentor',
    'RegionRestartHook', 'RegionUsageFloorLoss', 'TeacherMaskSegmentor',
    'mean_smallest_region_share', 'smallest_region_share'
]
