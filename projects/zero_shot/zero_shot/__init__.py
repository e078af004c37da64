# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Zero-shot segmentation: class embeddings (:class:`ClassEmbeddings`: CLIP
text features from a local checkpoint, or a file of class vectors; the CLIP
text-weight converter), ZegFormer's decoupled head
(:class:`ZegFormerHead`) and its CLIP image branch
(:class:`ZegFormerSegmentor`, :class:`CLIPImageClassifier`, the CLIP
image-weight converter), given segments named by a classifier
(:class:`RegionClassifierSegmentor`, :class:`SegmentClassifierHead`),
PADing's generated unseen-class features (:class:`PADingSegmentor`,
:class:`PrimitiveGenerator`, :class:`GMMNLoss`, trained with two optimizers
through :class:`SubmoduleOptimWrapperConstructor`), the seen/unseen metric
(:class:`SeenUnseenIoUMetric`)."""
from .class_embeddings import ClassEmbeddings
from .clip_image_checkpoint import (clip_visual_to_mmseg,
                                    load_clip_image_checkpoint)
from .clip_image_classifier import CLIPImageClassifier, mask_boxes
from .clip_text_checkpoint import clip_text_to_mmseg, load_clip_text_checkpoint
from .gmmn_loss import GMMNLoss
from .pading_segmentor import PADingSegmentor
from .primitive_generator import PrimitiveGenerator
from .region_classifier_segmentor import RegionClassifierSegmentor
from .seen_unseen_iou_metric import SeenUnseenIoUMetric
from .segment_classifier_head import SegmentClassifierHead
from .submodule_optim_wrapper_constructor import \
    SubmoduleOptimWrapperConstructor
from .top_down_pixel_decoder import TopDownPixelDecoder
from .zegformer_head import ZegFormerHead
from .zegformer_segmentor import ZegFormerSegmentor

__all__ = [
    'CLIPImageClassifier', 'ClassEmbeddings', 'GMMNLoss', 'PADingSegmentor',
    'PrimitiveGenerator', 'RegionClassifierSegmentor', 'SeenUnseenIoUMetric',
    'SegmentClassifierHead', 'SubmoduleOptimWrapperConstructor',
    'TopDownPixelDecoder', 'ZegFormerHead', 'ZegFormerSegmentor',
    'clip_text_to_mmseg', 'clip_visual_to_mmseg', 'load_clip_image_checkpoint',
    'load_clip_text_checkpoint', 'mask_boxes'
]
