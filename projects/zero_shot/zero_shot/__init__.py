# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Zero-shot segmentation (issue: ZegFormer, PADing, factorized regions
classified against class names). So far: the class side,
:class:`ClassEmbeddings` (CLIP text features from a local checkpoint, or a
file of class vectors) and the CLIP text-weight converter."""
from .class_embeddings import ClassEmbeddings
from .clip_text_checkpoint import clip_text_to_mmseg, load_clip_text_checkpoint

__all__ = [
    'ClassEmbeddings', 'clip_text_to_mmseg', 'load_clip_text_checkpoint'
]
