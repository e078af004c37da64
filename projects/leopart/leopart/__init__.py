# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Leopart's dense self-supervised training (Ziegler and Asano, CVPR 2022)
as mmengine/mmseg modules: multi-crop views with the boxes that align them
(:class:`LeopartMultiCrop`, :class:`PackMultiCropInputs`,
:class:`MultiCropDataPreprocessor`), the clustering head and loss
(:class:`LeopartHead`, :func:`sinkhorn`), the student-teacher model
(:class:`Leopart`) and the DINO/Leopart ViT checkpoint reader
(:func:`load_vit_checkpoint`). Its evaluation is projects/leopart_eval."""
from .leopart import Leopart
from .leopart_head import LeopartHead, sinkhorn
from .leopart_multi_crop import LeopartMultiCrop, crop_pair_boxes
from .multi_crop_data_preprocessor import MultiCropDataPreprocessor
from .pack_multi_crop_inputs import PackMultiCropInputs
from .vit_checkpoint import (load_vit_checkpoint, split_leopart_checkpoint,
                             timm_vit_to_mmseg)

__all__ = [
    'Leopart', 'LeopartHead', 'LeopartMultiCrop', 'MultiCropDataPreprocessor',
    'PackMultiCropInputs', 'crop_pair_boxes', 'load_vit_checkpoint',
    'sinkhorn', 'split_leopart_checkpoint', 'timm_vit_to_mmseg'
]
