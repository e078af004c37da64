# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Modules of the emergence study: the label-free baselines that the
factorized model is measured against, as mmseg segmentors.

The collapse remedies that measured no better than training without them
and are not in the paper (the collapse guard, low-noise mask gradients,
the region usage floor, bounded logits, restarting the mask generator's
output, masks drawn by a slow teacher) were removed after their rows were
recorded; their code is at commit 5cb5e14 (docs/emergence.md, section 5).
Oversampling low noise levels measured better and moved to the package
(``LowNoiseOversamplingScheduler`` of ``mmfactdiff.models.schedulers``).
``OracleMaskSegmentor`` is a diagnostic that reads labels: the decoder
trained on the ground-truth regions.
"""
from .colour_kmeans_segmentor import ColourKMeansSegmentor
from .label_free_segmentor import LabelFreeSegmentor
from .oracle_mask_segmentor import OracleMaskSegmentor
from .prior_mask_segmentor import PriorMaskSegmentor

__all__ = [
    'ColourKMeansSegmentor', 'LabelFreeSegmentor', 'OracleMaskSegmentor',
    'PriorMaskSegmentor'
]
