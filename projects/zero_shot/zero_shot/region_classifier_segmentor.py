# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import load_checkpoint
from mmseg.models.segmentors import EncoderDecoder
from mmseg.utils import ConfigType, OptConfigType, SampleList
from torch import Tensor

from mmfactdiff.registry import MODELS
from .checkpoint_exclusion import keep_out_of_checkpoints

PREPROCESS_KEYS = ('mean', 'std', 'bgr_to_rgb')


@MODELS.register_module()
class RegionClassifierSegmentor(EncoderDecoder):
    """Class-agnostic segments from a mask source, named by a classifier.

    The two stages of ZegFormer's decoupled design with the first stage
    swapped: the segments come from ``mask_source``, a frozen model with
    ``predict_regions`` (the factorized model's one-pass read-out, trained
    without labels), and each is named by the decode head
    (:class:`SegmentClassifierHead`: segment-averaged pixel embeddings
    against class embeddings), which trains on the labelled segments of the
    seen classes. With ``mask_source=None`` the test segments are the
    ground-truth ones (an oracle that uses labels at test time: it
    measures the classifier alone).

    The mask source reads the same preprocessed images as the backbone, so
    its config's ``data_preprocessor`` must normalise as this model's does
    (checked at build time).

    Args:
        backbone (dict): Backbone config (e.g. mmseg's ResNet).
        decode_head (dict): :class:`SegmentClassifierHead` config.
        mask_source (dict, optional): ``config`` (path of a config whose
            ``model`` has ``predict_regions``, e.g. a factorized diffusion
            config) and ``checkpoint`` (its trained weights, loaded when
            the model is built; None keeps random weights, for tests). The
            mask source is frozen and not saved in this model's
            checkpoints, so a classifier trained once can be tested with
            any mask source. None: ground-truth segments at test time.
            Defaults to None.
        **kwargs: ``EncoderDecoder`` arguments (``data_preprocessor``,
            ``train_cfg``, ``test_cfg``, ``init_cfg``, ...).
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 mask_source: OptConfigType = None,
                 **kwargs) -> None:
        super().__init__(backbone=backbone, decode_head=decode_head, **kwargs)
        self.mask_source = None
        if mask_source is None:
            return
        unknown = set(mask_source) - {'config', 'checkpoint'}
        if unknown or 'config' not in mask_source:
            raise ValueError(
                'RegionClassifierSegmentor: mask_source takes config (a '
                'config file path) and checkpoint, got keys '
                f'{sorted(mask_source)}')
        cfg = Config.fromfile(mask_source['config'])
        theirs = cfg.model.get('data_preprocessor', {})
        ours = kwargs.get('data_preprocessor') or {}
        for key in PREPROCESS_KEYS:
            if theirs.get(key) != ours.get(key):
                raise ValueError(
                    'RegionClassifierSegmentor: the mask source '
                    f'({mask_source["config"]}) preprocesses with '
                    f'{key}={theirs.get(key)!r}, this model with '
                    f'{ours.get(key)!r}; set model.data_preprocessor.{key} '
                    'to the mask source\'s')
        source = MODELS.build(cfg.model)
        if not hasattr(source, 'predict_regions'):
            raise TypeError('RegionClassifierSegmentor: the mask source '
                            f'{type(source).__name__} has no predict_regions')
        checkpoint = mask_source.get('checkpoint')
        if checkpoint is None:
            print_log(
                'RegionClassifierSegmentor: mask_source.checkpoint is None: '
                'the mask source keeps random weights',
                level=30)
        else:
            load_checkpoint(
                source, checkpoint, map_location='cpu', strict=True)
        source.requires_grad_(False)
        self.mask_source = source.eval()
        # the mask source is not part of this model's weights: checkpoints
        # hold the classifier alone, and any mask source can name its
        # segments with them (model.mask_source.checkpoint at test time)
        keep_out_of_checkpoints(self, 'mask_source')

    def train(self, mode: bool = True) -> 'RegionClassifierSegmentor':
        super().train(mode)
        if self.mask_source is not None:
            self.mask_source.eval()  # frozen: no batch statistics change
        return self

    def segments(self,
                 inputs: Tensor,
                 data_samples: Optional[SampleList] = None) -> Tensor:
        """One-hot segments (B, S, H, W): the mask source's regions under
        argmax, or the ground-truth classes without a mask source."""
        if self.mask_source is not None:
            with torch.no_grad():
                probs = self.mask_source.predict_regions(inputs)
            return F.one_hot(probs.argmax(1),
                             probs.shape[1]).permute(0, 3, 1, 2).to(inputs)
        if data_samples is None or 'gt_sem_seg' not in data_samples[0]:
            raise ValueError('RegionClassifierSegmentor without mask_source '
                             'takes its test segments from the labels: the '
                             'samples have no gt_sem_seg')
        # labels at the input size (a test pipeline may keep them at the
        # original one)
        gt = torch.stack([
            F.interpolate(
                s.gt_sem_seg.data[None].float(),
                size=inputs.shape[-2:],
                mode='nearest')[0, 0] for s in data_samples
        ]).long()
        return F.one_hot(gt.clamp(0, self.num_classes),
                         self.num_classes + 1)[..., :-1].permute(0, 3, 1,
                                                                 2).to(inputs)

    def encode_decode(self,
                      inputs: Tensor,
                      batch_img_metas,
                      *,
                      data_samples: Optional[SampleList] = None) -> Tensor:
        """Class scores (B, C, H, W): each segment's softmax over every
        class, given to its pixels."""
        feats = self.extract_feat(inputs)
        return self.decode_head.predict_segments(
            feats, self.segments(inputs, data_samples), batch_img_metas)

    def predict(self,
                inputs: Tensor,
                data_samples: Optional[SampleList] = None) -> SampleList:
        """Name the segments and write ``pred_sem_seg`` (and
        ``seg_logits``) at each image's original size."""
        metas = ([s.metainfo for s in data_samples] if data_samples else [
            dict(
                img_shape=inputs.shape[2:],
                ori_shape=inputs.shape[2:],
                pad_shape=inputs.shape[2:],
                padding_size=[0] * 4)
        ] * inputs.shape[0])
        seg = self.encode_decode(inputs, metas, data_samples=data_samples)
        return self.postprocess_result(seg, data_samples)
