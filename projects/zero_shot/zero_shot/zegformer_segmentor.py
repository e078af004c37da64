# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import List

import torch
from mmseg.models.segmentors import EncoderDecoder
from mmseg.utils import ConfigType, OptConfigType
from torch import Tensor

from mmfactdiff.registry import MODELS
from .checkpoint_exclusion import keep_out_of_checkpoints
from .zegformer_head import ZegFormerHead


@MODELS.register_module()
class ZegFormerSegmentor(EncoderDecoder):
    """ZegFormer with its second branch: the segments' class scores fused
    with CLIP's classification of their masked crops at inference.

    Training is :class:`ZegFormerHead`'s (the CLIP branch is not used).
    At inference each segment gets ZegFormer's fused probabilities
    (``ENSEMBLING``): with ``p`` the head's softmax and ``p_clip`` the
    softmax of CLIP's logits beside the head's background logit (both
    without the background), CLIP's seen-class probabilities replaced by
    their mean, and ``w = clip_weight``::

        seen classes:   p ** w * p_clip ** (1 - w)
        unseen classes: p ** (1 - w) * p_clip ** w

    then the head's semantic scores (``sum_q``, seen-score calibration).
    Without ``clip_branch`` this is ``EncoderDecoder`` with the head.

    The branch reads the images in 0-255 RGB, recovered from the
    preprocessed inputs with ``data_preprocessor``'s mean and std, so the
    data preprocessor must convert to RGB (``bgr_to_rgb=True``; checked).

    Args:
        backbone (dict): Backbone config.
        decode_head (dict): :class:`ZegFormerHead` config whose class
            embeddings are CLIP text features of the branch's CLIP model.
        clip_branch (dict, optional): :class:`CLIPImageClassifier` config.
            Defaults to None.
        clip_weight (float): ZegFormer's ``lambda_balance``. Defaults to
            2/3.
        data_preprocessor (dict, optional): ``SegDataPreProcessor``
            config.
        **kwargs: ``EncoderDecoder`` arguments.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 clip_branch: OptConfigType = None,
                 clip_weight: float = 2 / 3,
                 data_preprocessor: OptConfigType = None,
                 **kwargs) -> None:
        super().__init__(
            backbone=backbone,
            decode_head=decode_head,
            data_preprocessor=data_preprocessor,
            **kwargs)
        if not isinstance(self.decode_head, ZegFormerHead):
            raise TypeError('ZegFormerSegmentor: decode_head must be a '
                            'ZegFormerHead, got '
                            f'{type(self.decode_head).__name__}')
        if not 0. <= clip_weight <= 1.:
            raise ValueError(f'ZegFormerSegmentor: clip_weight must lie in '
                             f'[0, 1], got {clip_weight}')
        self.clip_branch = None
        if clip_branch is not None:
            if not (data_preprocessor or {}).get('bgr_to_rgb'):
                raise ValueError(
                    'ZegFormerSegmentor: the CLIP branch reads RGB images: '
                    'set model.data_preprocessor.bgr_to_rgb=True')
            self.clip_branch = MODELS.build(clip_branch)
            # CLIP's weights are the file's, not the model's: not saved,
            # and loading a checkpoint leaves them as they are
            keep_out_of_checkpoints(self, 'clip_branch')
        self.clip_weight = clip_weight

    def fuse(self, cls: Tensor, clip_logits: Tensor) -> Tensor:
        """ZegFormer's fused class probabilities (B, Q, C) from the head's
        logits (B, Q, C + 1) and CLIP's (B, Q, C)."""
        head = self.decode_head
        w = self.clip_weight
        p = cls.softmax(-1)[..., :-1]
        p_clip = torch.cat([clip_logits, cls[..., -1:]],
                           -1).softmax(-1)[..., :-1]
        seen = head.seen
        unseen = torch.ones(p.shape[-1], dtype=torch.bool, device=p.device)
        unseen[seen] = False
        p_clip = p_clip.clone()
        p_clip[..., seen] = p_clip[..., seen].mean(-1, keepdim=True)
        fused = torch.empty_like(p)
        fused[..., seen] = p[..., seen]**w * p_clip[..., seen]**(1 - w)
        fused[..., unseen] = p[..., unseen]**(1 - w) * p_clip[..., unseen]**w
        return fused

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """Class scores (B, C, H, W), fused with the CLIP branch's."""
        head = self.decode_head
        cls, masks = head.forward(self.extract_feat(inputs))
        if self.clip_branch is None:
            probs = cls.softmax(-1)[..., :-1]
        else:
            pre = self.data_preprocessor
            images = (
                inputs * pre.std + pre.mean
                if getattr(pre, '_enable_normalize', False) else inputs)
            clip_logits = self.clip_branch(images, masks,
                                           head.class_embeddings())
            probs = self.fuse(cls, clip_logits)
        return head.semantic_scores(probs, masks, batch_img_metas)

    @property
    def has_clip_branch(self) -> bool:
        """Whether inference fuses CLIP's scores."""
        return self.clip_branch is not None

    def train(self, mode: bool = True) -> 'ZegFormerSegmentor':
        super().train(mode)
        if self.clip_branch is not None:
            self.clip_branch.eval()
        return self
