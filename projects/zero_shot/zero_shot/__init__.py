# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Zero-shot segmentation: class embeddings (:class:`ClassEmbeddings`: CLIP
text features from a local checkpoint, or a file of class vectors; the CLIP
text-weight converter), ZegFormer's decoupled head
(:class:`ZegFormerHead`), the seen/unseen metric
(:class:`SeenUnseenIoUMetric`) and a label remapping transform."""
from .class_embeddings import ClassEmbeddings
from .clip_text_checkpoint import clip_text_to_mmseg, load_clip_text_checkpoint
from .seen_unseen_iou_metric import SeenUnseenIoUMetric
from .zegformer_head import ZegFormerHead

__all__ = [
    'ClassEmbeddings', 'SeenUnseenIoUMetric', 'ZegFormerHead',
    'clip_text_to_mmseg', 'load_clip_text_checkpoint'
]
