# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.utils import ConfigType, SampleList
from torch import Tensor, nn

from mmfactdiff.registry import MODELS
from .class_embeddings import build_seen_class_side
from .seen_segments import seen_segments
from .top_down_pixel_decoder import TopDownPixelDecoder


@MODELS.register_module()
class SegmentClassifierHead(BaseDecodeHead):
    """Names given segments by cosine similarity with class embeddings.

    The classification half of ZegFormer's decoupled design, for segments
    that come from elsewhere (the factorized model's label-free regions,
    or any class-agnostic mask source): per-pixel embeddings
    (:class:`TopDownPixelDecoder`) are averaged over each segment, projected
    to the class-embedding width, and compared by cosine similarity with
    the frozen class embeddings (:class:`ClassEmbeddings`) at
    ``temperature`` (ZegFormer's 0.01). Every pixel of a segment gets the
    segment's class scores.

    Training uses the labelled segments of the ``seen_classes`` only (one
    segment per seen class present in an image; pixels of other classes
    and ``ignore_index`` belong to none), with cross-entropy over the seen
    classes. Inference scores every class, seen or not, so unseen classes
    can be named through their embeddings. The segmentor supplies the
    segments (:class:`RegionClassifierSegmentor`); ``predict`` without
    segments is refused.

    Args:
        class_embeddings (dict): :class:`ClassEmbeddings` config; its
            ``class_names`` are the classes, in label order.
        seen_classes (Sequence[int]): Class indices trained on.
        temperature (float): Cosine-logit temperature. Defaults to 0.01.
        **kwargs: ``BaseDecodeHead`` arguments (``in_channels`` and
            ``in_index`` lists, ``channels`` = the embedding width,
            ``num_classes`` = the number of class names, ``ignore_index``).
    """

    def __init__(self,
                 class_embeddings: ConfigType,
                 seen_classes: Sequence[int],
                 temperature: float = 0.01,
                 **kwargs) -> None:
        kwargs.setdefault('input_transform', 'multiple_select')
        kwargs.setdefault('init_cfg', None)
        super().__init__(**kwargs)
        self.class_embeddings, seen = build_seen_class_side(
            'SegmentClassifierHead', class_embeddings, seen_classes,
            self.num_classes)
        if not temperature > 0:
            raise ValueError('SegmentClassifierHead: temperature must be > 0,'
                             f' got {temperature!r}')
        self.register_buffer('seen', seen, persistent=False)
        self.pixel_decoder = TopDownPixelDecoder(self.in_channels,
                                                 self.channels)
        self.segment_embed = nn.Linear(
            self.channels, self.class_embeddings.embeddings.shape[1])
        self.temperature = temperature
        self.conv_seg = None

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        """Pixel embeddings (B, channels, h, w) at the finest input level."""
        return self.pixel_decoder(self._transform_inputs(inputs))[1]

    def classify(self, inputs: Sequence[Tensor], segments: Tensor) -> Tensor:
        """Class logits (B, S, C) of segments (B, S, H, W) in [0, 1] (any
        size: they are averaged down to the pixel embeddings' size)."""
        pixels = self.forward(inputs)
        weights = F.interpolate(
            segments.to(pixels), size=pixels.shape[-2:], mode='area')
        area = weights.sum((2, 3)).clamp_min(1e-6)
        pooled = torch.einsum('bshw,bdhw->bsd', weights, pixels)
        emb = F.normalize(self.segment_embed(pooled / area[..., None]), dim=-1)
        table = self.class_embeddings().to(emb)
        return emb @ table.t() / self.temperature

    def loss(self, inputs: Tuple[Tensor], batch_data_samples: SampleList,
             train_cfg: ConfigType) -> Dict[str, Tensor]:
        size = batch_data_samples[0].gt_sem_seg.data.shape[-2:]
        per_image = [
            seen_segments(s.gt_sem_seg.data, size, self.seen, self.num_classes,
                          self.ignore_index)[:2] for s in batch_data_samples
        ]
        num = max(len(labels) for labels, _ in per_image)
        if num == 0:
            raise ValueError('SegmentClassifierHead: no pixel of a seen '
                             'class in the batch; check seen_classes and '
                             'the dataset\'s labels')
        segments = inputs[0].new_zeros((len(per_image), num, *size))
        targets = torch.full((len(per_image), num),
                             -100,
                             dtype=torch.long,
                             device=inputs[0].device)
        to_col = torch.full((self.num_classes, ),
                            -100,
                            dtype=torch.long,
                            device=inputs[0].device)
        to_col[self.seen] = torch.arange(len(self.seen), device=to_col.device)
        for i, (labels, masks) in enumerate(per_image):
            segments[i, :len(labels)] = masks.to(segments)
            targets[i, :len(labels)] = to_col[labels]
        logits = self.classify(inputs, segments)[..., self.seen]
        return dict(
            loss_cls=F.cross_entropy(
                logits.flatten(0, 1), targets.flatten(), ignore_index=-100))

    def predict_segments(self, inputs: Tuple[Tensor], segments: Tensor,
                         batch_img_metas: List[dict]) -> Tensor:
        """Class scores (B, C, H, W) of every pixel: its segment's softmax
        over all classes, seen or not (segments (B, S, H, W) at the input
        size, one-hot or soft)."""
        probs = self.classify(inputs, segments).softmax(-1)
        seg = torch.einsum('bsc,bshw->bchw', probs, segments.to(probs))
        size = batch_img_metas[0]['img_shape'][:2]
        if tuple(seg.shape[-2:]) != tuple(size):
            seg = F.interpolate(
                seg, size=size, mode='bilinear', align_corners=False)
        return seg

    def predict(self, inputs: Tuple[Tensor], batch_img_metas: List[dict],
                test_cfg: ConfigType) -> Tensor:
        raise NotImplementedError(
            'SegmentClassifierHead names given segments: use it in '
            'RegionClassifierSegmentor (model.type), which supplies them')

    def loss_by_feat(self, seg_logits, batch_data_samples) -> dict:
        raise NotImplementedError('SegmentClassifierHead computes its loss in '
                                  'loss() (one term per labelled segment)')
