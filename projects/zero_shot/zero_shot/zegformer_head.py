# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.utils import ConfigType, SampleList
from torch import Tensor, nn
from torchvision.ops import sigmoid_focal_loss

from mmfactdiff.registry import MODELS, TASK_UTILS
from .class_embeddings import build_seen_class_side
from .seen_segments import seen_segments
from .top_down_pixel_decoder import TopDownPixelDecoder


@MODELS.register_module()
class ZegFormerHead(BaseDecodeHead):
    """ZegFormer's decoupled zero-shot head (Ding et al., CVPR 2022),
    compact: class-agnostic segments from queries, each classified by
    cosine similarity against frozen class embeddings.

    A small pixel decoder (:class:`TopDownPixelDecoder`: lateral 1x1
    convs, top-down sum to the finest level, a 3x3 conv) gives per-pixel
    embeddings; ``num_queries`` learned queries attend to the tokens of
    every level (with a learned level embedding; the original reads the
    coarsest level only, one token for a 32x32 image here) through a
    transformer decoder.
    Each query predicts a mask (its mask embedding dotted with the pixel
    embeddings) and a segment embedding, whose cosine similarity with the
    class embeddings (:class:`ClassEmbeddings`) and a learned background
    ("no object") embedding, divided by ``temperature`` (0.01, the
    original's), gives its class logits.

    Training sees the ``seen_classes`` only: the logits are taken over
    them and the background; pixels of other classes (and ``ignore_index``)
    are ignored by the mask losses. Each image's segments (one per seen
    class present) are matched to queries by mmseg's ``HungarianAssigner``
    (classification, mask BCE and dice costs); matched queries learn their
    class (cross-entropy) and mask (sigmoid focal + dice), the others the
    background at ``no_object_weight``. Inference scores every class,
    seen or not: the semantic map is ``sum_q p_q(c) sigmoid(m_q)``.

    ``seen_calibration`` is ZegFormer's generalized zero-shot calibration
    (``GZERO_CALIBRATE``): a constant subtracted from the seen classes'
    semantic scores at inference, against the bias towards the classes
    seen in training (0.1 in the original's VOC and COCO-Stuff evaluation
    configs).

    Not here: the original's second branch (masked crops classified by a
    CLIP image encoder and fused at weight 2/3 with seen-score
    calibration).

    Args:
        class_embeddings (dict): :class:`ClassEmbeddings` config; its
            ``class_names`` are the classes, in label order.
        seen_classes (Sequence[int]): Class indices trained on.
        num_queries (int): Segments per image. Defaults to 16.
        num_decoder_layers (int): Transformer decoder layers. Defaults
            to 2.
        num_heads (int): Attention heads. Defaults to 4.
        temperature (float): Cosine-logit temperature. Defaults to 0.01.
        seen_calibration (float): Subtracted from the seen classes' scores
            at inference. Defaults to 0.0 (none).
        no_object_weight (float): Cross-entropy weight of the background
            class. Defaults to 0.1.
        cls_weight (float): Weight of the classification loss. Defaults
            to 2.0.
        focal_weight (float): Weight of the mask focal loss. Defaults to
            20.0 (MaskFormer's).
        dice_weight (float): Weight of the mask dice loss. Defaults to 1.0.
        assigner (dict): ``TASK_UTILS`` assigner config.
        **kwargs: ``BaseDecodeHead`` arguments (``in_channels`` and
            ``in_index`` lists, ``channels`` = the embedding width,
            ``num_classes`` = the number of class names, ``ignore_index``).
    """

    def __init__(self,
                 class_embeddings: ConfigType,
                 seen_classes: Sequence[int],
                 num_queries: int = 16,
                 num_decoder_layers: int = 2,
                 num_heads: int = 4,
                 temperature: float = 0.01,
                 seen_calibration: float = 0.0,
                 no_object_weight: float = 0.1,
                 cls_weight: float = 2.0,
                 focal_weight: float = 20.0,
                 dice_weight: float = 1.0,
                 assigner: ConfigType = dict(
                     type='HungarianAssigner',
                     match_costs=[
                         dict(type='ClassificationCost', weight=2.0),
                         dict(
                             type='CrossEntropyLossCost',
                             weight=5.0,
                             use_sigmoid=True),
                         dict(
                             type='DiceCost',
                             weight=5.0,
                             pred_act=True,
                             eps=1.0)
                     ]),
                 **kwargs) -> None:
        kwargs.setdefault('input_transform', 'multiple_select')
        # BaseDecodeHead's default init targets conv_seg, unused here
        kwargs.setdefault('init_cfg', None)
        super().__init__(**kwargs)
        self.class_embeddings, seen = build_seen_class_side(
            'ZegFormerHead', class_embeddings, seen_classes, self.num_classes)
        self.register_buffer('seen', seen, persistent=False)
        d = self.channels
        widths = list(self.in_channels)
        self.pixel_decoder = TopDownPixelDecoder(widths, d)
        self.level_embed = nn.Parameter(torch.zeros(1, len(widths), d))
        self.queries = nn.Embedding(num_queries, d)
        self.decoder = nn.TransformerDecoder(
            nn.TransformerDecoderLayer(
                d,
                num_heads,
                dim_feedforward=4 * d,
                dropout=0.0,
                batch_first=True), num_decoder_layers)
        self.mask_embed = nn.Sequential(
            nn.Linear(d, d), nn.ReLU(inplace=True), nn.Linear(d, d))
        text_dims = self.class_embeddings.embeddings.shape[1]
        self.segment_embed = nn.Linear(d, text_dims)
        self.bg_embed = nn.Parameter(torch.randn(1, text_dims) * 0.02)
        self.temperature = temperature
        self.seen_calibration = seen_calibration
        self.no_object_weight = no_object_weight
        self.cls_weight = cls_weight
        self.focal_weight = focal_weight
        self.dice_weight = dice_weight
        self.assigner = TASK_UTILS.build(assigner)
        # the class side is frozen (conv_seg of BaseDecodeHead is unused)
        self.conv_seg = None

    def forward_queries(self,
                        inputs: Sequence[Tensor]) -> Tuple[Tensor, Tensor]:
        """Query embeddings (B, Q, D) and mask logits (B, Q, h, w) at the
        finest input level: the class-agnostic segments, before naming."""
        feats = self._transform_inputs(inputs)
        levels, pixels = self.pixel_decoder(feats)
        # the queries read every level (Mask2Former's multi-scale memory:
        # at 32x32 inputs the coarsest level alone is one token)
        memory = torch.cat([
            x.flatten(2).transpose(1, 2) + self.level_embed[:, i]
            for i, x in enumerate(levels)
        ], 1)
        b = pixels.shape[0]
        q = self.decoder(self.queries.weight[None].expand(b, -1, -1), memory)
        masks = torch.einsum('bqd,bdhw->bqhw', self.mask_embed(q), pixels)
        return q, masks

    def classify(self, queries: Tensor) -> Tensor:
        """Cosine class logits (B, Q, C + 1) of query embeddings against
        the class embeddings and the background embedding."""
        seg = F.normalize(self.segment_embed(queries), dim=-1)
        table = torch.cat([
            self.class_embeddings().to(seg),
            F.normalize(self.bg_embed, dim=-1)
        ])
        return seg @ table.t() / self.temperature

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, Tensor]:
        """Class logits over all classes + background (B, Q, C + 1) and
        mask logits (B, Q, h, w) at the finest input level."""
        q, masks = self.forward_queries(inputs)
        return self.classify(q), masks

    def _seen_columns(self) -> Tuple[Tensor, Tensor]:
        """The logit columns of the seen classes and the background, and
        each label's column among them (-1 for unseen classes)."""
        columns = torch.cat(
            [self.seen, self.seen.new_tensor([self.num_classes])])
        to_col = columns.new_full((self.num_classes + 1, ), -1)
        to_col[columns] = torch.arange(len(columns), device=columns.device)
        return columns, to_col

    def match(self, cls: Tensor, masks: Tensor,
              batch_data_samples: SampleList) -> List[Tuple[Tensor, ...]]:
        """Match each image's seen-class segments to queries.

        Args:
            cls (Tensor): Class logits (B, Q, C + 1) over all classes.
            masks (Tensor): Mask logits (B, Q, h, w).
            batch_data_samples (list): Samples with ``gt_sem_seg``.

        Returns:
            list[tuple]: Per image: matched query indices, their classes
            (label indices), the matched segments' masks (M, h, w) and the
            scored pixels (h, w; seen classes only). Empty for an image
            without seen-class pixels.
        """
        # matching scores the seen classes and the background only
        columns, to_col = self._seen_columns()
        out = []
        for i, sample in enumerate(batch_data_samples):
            labels, gt_masks, valid = seen_segments(sample.gt_sem_seg.data,
                                                    masks.shape[-2:],
                                                    self.seen,
                                                    self.num_classes,
                                                    self.ignore_index)
            if not len(labels):
                empty = labels.new_zeros((0, ))
                out.append((empty, empty, gt_masks, valid))
                continue
            # costs on the scored pixels only
            pred = InstanceData(
                scores=cls[i, :, columns].detach(),
                masks=masks[i, :, valid].detach())
            gt = InstanceData(
                labels=to_col[labels], masks=gt_masks[:, valid].float())
            q_idx, g_idx = self.assigner.assign(pred, gt)
            out.append((q_idx, labels[g_idx], gt_masks[g_idx], valid))
        return out

    def loss(self, inputs: Tuple[Tensor], batch_data_samples: SampleList,
             train_cfg: ConfigType) -> Dict[str, Tensor]:
        cls, masks = self.forward(inputs)
        # training scores the seen classes and the background only
        columns, to_col = self._seen_columns()
        bg = len(columns) - 1
        weight = cls.new_ones(len(columns))
        weight[bg] = self.no_object_weight
        loss_cls, loss_focal, loss_dice, matched = 0., 0., 0., 0
        matches = self.match(cls, masks, batch_data_samples)
        for i, (q_idx, labels, gt_masks, valid) in enumerate(matches):
            target = torch.full((cls.shape[1], ),
                                bg,
                                dtype=torch.long,
                                device=cls.device)
            if len(q_idx):
                target[q_idx] = to_col[labels]
                m = masks[i, q_idx][:, valid]
                t = gt_masks[:, valid].float()
                loss_focal = loss_focal + sigmoid_focal_loss(
                    m, t, reduction='none').mean(1).sum()
                p = m.sigmoid()
                dice = 1 - (2 * (p * t).sum(1) + 1) / (p.sum(1) + t.sum(1) + 1)
                loss_dice = loss_dice + dice.sum()
                matched += len(q_idx)
            loss_cls = loss_cls + F.cross_entropy(
                cls[i, :, columns], target, weight=weight)
        n = max(matched, 1)
        return dict(
            loss_cls=self.cls_weight * loss_cls / len(batch_data_samples),
            loss_focal=self.focal_weight * loss_focal / n,
            loss_dice=self.dice_weight * loss_dice / n)

    def predict(self, inputs: Tuple[Tensor], batch_img_metas: List[dict],
                test_cfg: ConfigType) -> Tensor:
        """Semantic scores (B, C, H, W) over every class, seen or not."""
        cls, masks = self.forward(inputs)
        return self.semantic_scores(
            cls.softmax(-1)[..., :-1], masks, batch_img_metas)

    def semantic_scores(self, probs: Tensor, masks: Tensor,
                        batch_img_metas: List[dict]) -> Tensor:
        """Per-pixel class scores from the segments' class probabilities
        (B, Q, C) and mask logits (B, Q, h, w): ``sum_q p_q(c)
        sigmoid(m_q)``, the seen classes lowered by ``seen_calibration``,
        at the input size."""
        seg = torch.einsum('bqc,bqhw->bchw', probs, masks.sigmoid())
        if self.seen_calibration:
            seg[:, self.seen] = seg[:, self.seen] - self.seen_calibration
        return self.predict_by_feat(seg, batch_img_metas)

    def predict_by_feat(self, seg_logits: Tensor,
                        batch_img_metas: List[dict]) -> Tensor:
        size = batch_img_metas[0]['img_shape'][:2]
        return F.interpolate(
            seg_logits,
            size=size,
            mode='bilinear',
            align_corners=self.align_corners)

    def loss_by_feat(self, seg_logits, batch_data_samples) -> dict:
        raise NotImplementedError('ZegFormerHead computes its losses in '
                                  'loss() (matching queries to segments)')
