# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Modules of the emergence study: the label-free baselines that the
factorized model is measured against, as mmseg segmentors."""
from .colour_kmeans_segmentor import ColourKMeansSegmentor
from .kmeans import per_image_kmeans
from .label_free_segmentor import LabelFreeSegmentor
from .plain_unet_kmeans_segmentor import PlainUNetKMeansSegmentor
from .prior_mask_segmentor import PriorMaskSegmentor

__all__ = [
    'ColourKMeansSegmentor', 'LabelFreeSegmentor', 'PlainUNetKMeansSegmentor',
    'PriorMaskSegmentor', 'per_image_kmeans'
]
