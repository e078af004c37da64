# Copyright (c) mmfactdiff contributors. All rights reserved.
import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmseg.utils import ConfigType
from torch import Tensor, nn
from torchvision.ops import roi_align

from mmfactdiff.registry import MODELS
from .clip_image_checkpoint import load_clip_image_checkpoint

CROP_STYLES = ('cropmask', 'crop', 'mask')
# CLIP's image normalisation, in 0-255 RGB
CLIP_MEAN = (122.7709383, 116.7460125, 104.09373615)
CLIP_STD = (68.5005327, 66.6321579, 70.32316305)


def mask_boxes(masks: Tensor) -> Tensor:
    """Boxes (N, 4: x1, y1, x2, y2, pixel indices) around binary masks
    (N, H, W); a mask whose box has no area (empty, one row or one
    column) gets the whole image, as ZegFormer does."""
    n, h, w = masks.shape
    cols, rows = masks.any(1), masks.any(2)
    ar_w = torch.arange(w, device=masks.device).expand(n, w)
    ar_h = torch.arange(h, device=masks.device).expand(n, h)
    x1 = torch.where(cols, ar_w, w).min(1).values
    x2 = torch.where(cols, ar_w, -1).max(1).values
    y1 = torch.where(rows, ar_h, h).min(1).values
    y2 = torch.where(rows, ar_h, -1).max(1).values
    boxes = torch.stack([x1, y1, x2, y2], 1).float()
    flat = ((x2 - x1) <= 0) | ((y2 - y1) <= 0)
    boxes[flat] = boxes.new_tensor([0., 0., w, h])
    return boxes


@MODELS.register_module()
class CLIPImageClassifier(BaseModule):
    """ZegFormer's second branch: every segment's masked crop classified by
    CLIP's image encoder against the class text embeddings.

    Each segment's mask (sigmoid > 0.5 at the image size) gives a box
    around it; ``crop_style='cropmask'`` (ZegFormer's) crops the masked
    image (pixels outside the mask zeroed) to that box, ``'crop'`` the
    unmasked image, ``'mask'`` takes the whole masked image; the crop is
    resized to ``crop_size`` by ``roi_align``, normalised as CLIP expects
    and encoded by an mmseg ``VisionTransformer`` holding CLIP's image
    tower; the class token through CLIP's projection, L2-normalised, gives
    logits ``exp(logit_scale) * cos`` against the class embeddings.

    The CLIP weights come from ``checkpoint`` (a local OpenAI CLIP state
    dict, :func:`load_clip_image_checkpoint`), loaded when the module is
    built and again by :meth:`init_weights`, and frozen;
    :class:`ZegFormerSegmentor` leaves them out of its checkpoints, so a
    head trained without this branch is tested with it by adding it to the
    test config.

    Args:
        encoder (dict): mmseg ``VisionTransformer`` config of CLIP's image
            tower; the default is ViT-B/16 (``output_cls_token``,
            ``pre_norm`` and ``final_norm`` are required).
        output_dims (int): Width of CLIP's joint space. Defaults to 512.
        checkpoint (str, optional): Local OpenAI CLIP state dict. None
            keeps random weights, and :meth:`forward` then refuses to run
            (the model still builds, e.g. to check a config). Defaults to
            None.
        crop_style (str): ``'cropmask'``, ``'crop'`` or ``'mask'``.
            Defaults to 'cropmask'.
        crop_size (int): Side of the encoder's input. Defaults to 224.
        mean (Sequence[float]): Normalisation mean, 0-255 RGB. Defaults to
            CLIP's.
        std (Sequence[float]): Normalisation std. Defaults to CLIP's.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 encoder: ConfigType = dict(
                     type='VisionTransformer',
                     img_size=224,
                     patch_size=16,
                     embed_dims=768,
                     num_layers=12,
                     num_heads=12,
                     mlp_ratio=4,
                     out_indices=-1,
                     qkv_bias=True,
                     with_cls_token=True,
                     output_cls_token=True,
                     patch_bias=False,
                     pre_norm=True,
                     final_norm=True,
                     norm_cfg=dict(type='LN', eps=1e-5),
                     act_cfg=dict(type='QuickGELU'),
                     interpolate_mode='bicubic'),
                 output_dims: int = 512,
                 checkpoint: Optional[str] = None,
                 crop_style: str = 'cropmask',
                 crop_size: int = 224,
                 mean: Sequence[float] = CLIP_MEAN,
                 std: Sequence[float] = CLIP_STD,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if crop_style not in CROP_STYLES:
            raise ValueError(f'CLIPImageClassifier: crop_style must be one '
                             f'of {CROP_STYLES}, got {crop_style!r}')
        for key in ('output_cls_token', 'pre_norm', 'final_norm'):
            if not encoder.get(key):
                raise ValueError(f'CLIPImageClassifier: encoder.{key} must '
                                 'be True for CLIP\'s image tower')
        self.encoder = MODELS.build(encoder)
        self.proj = nn.Parameter(
            torch.empty(encoder['embed_dims'],
                        output_dims).normal_(std=encoder['embed_dims']**-0.5))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(100.)))
        self.register_buffer('mean', torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor(std).view(1, 3, 1, 1))
        self.checkpoint = checkpoint
        self.crop_style = crop_style
        self.crop_size = crop_size
        self._load()
        self.requires_grad_(False)

    def _load(self) -> None:
        self._loaded = False
        if self.checkpoint is None:
            print_log(
                'CLIPImageClassifier: checkpoint is None: random CLIP '
                'image weights (inference refuses to run)',
                level=30)
            return
        vit, proj, logit_scale = load_clip_image_checkpoint(self.checkpoint)
        hint = 'compare the encoder settings with the CLIP model'
        try:
            result = self.encoder.load_state_dict(vit, strict=False)
            self.proj.data.copy_(proj)
            self.logit_scale.data.copy_(logit_scale)
        except RuntimeError as err:
            raise RuntimeError(f'{self.checkpoint}: the CLIP image weights '
                               f'do not fit ({hint}): {err}') from err
        if result.missing_keys or result.unexpected_keys:
            raise RuntimeError(
                f'{self.checkpoint}: the CLIP image weights do not fit '
                f'(missing {result.missing_keys[:3]}, unexpected '
                f'{result.unexpected_keys[:3]}): {hint}')
        self._loaded = True

    def init_weights(self) -> None:
        """Reload the CLIP weights (an initialisation must not replace
        them); random initialisation without a checkpoint."""
        if self.checkpoint is None:
            super().init_weights()
        else:
            self._load()

    def train(self, mode: bool = True) -> 'CLIPImageClassifier':
        return super().train(False)  # frozen, always

    def crops(self, images: Tensor, masks: Tensor) -> Tensor:
        """CLIP inputs (B * Q, 3, S, S) from images (B, 3, H, W; 0-255
        RGB) and binary masks (B, Q, H, W)."""
        b, q, h, w = masks.shape
        flat = masks.flatten(0, 1)
        repeated = images[:, None].expand(-1, q, -1, -1, -1).flatten(0, 1)
        masked = repeated * flat[:, None].to(images)
        if self.crop_style == 'mask':
            boxes = images.new_tensor([0., 0., w, h]).expand(b * q, 4)
        else:
            boxes = mask_boxes(flat)
        source = repeated if self.crop_style == 'crop' else masked
        rois = torch.cat([
            torch.arange(b * q, device=images.device,
                         dtype=boxes.dtype)[:, None], boxes
        ], 1)
        out = roi_align(source, rois, self.crop_size, aligned=True)
        return (out - self.mean) / self.std

    def embed(self, crops: Tensor) -> Tensor:
        """Unit-norm CLIP image embeddings (N, output_dims)."""
        cls_token = self.encoder(crops)[-1][1]
        return F.normalize(cls_token @ self.proj, dim=-1)

    @torch.no_grad()
    def forward(self, images: Tensor, mask_logits: Tensor,
                class_embeddings: Tensor) -> Tensor:
        """CLIP logits (B, Q, C) of every segment against the classes.

        Args:
            images (Tensor): Images (B, 3, H, W), RGB, 0-255.
            mask_logits (Tensor): Segment mask logits (B, Q, h, w).
            class_embeddings (Tensor): Unit-norm class embeddings (C, D),
                CLIP text features of the same CLIP model.
        """
        if not self._loaded:
            raise RuntimeError(
                'CLIPImageClassifier: no CLIP weights were loaded: set '
                'model.clip_branch.checkpoint to a local OpenAI CLIP state '
                'dict (projects/zero_shot/README.md: how to make one)')
        if class_embeddings.shape[1] != self.proj.shape[1]:
            raise ValueError(
                f'CLIPImageClassifier: class embeddings are '
                f'{class_embeddings.shape[1]}-d, CLIP\'s image embeddings '
                f'{self.proj.shape[1]}-d: the CLIP branch needs CLIP text '
                'embeddings of the same model (ClassEmbeddings with '
                'text_encoder)')
        b, q = mask_logits.shape[:2]
        masks = F.interpolate(
            mask_logits,
            size=images.shape[-2:],
            mode='bilinear',
            align_corners=False).sigmoid() > 0.5
        emb = self.embed(self.crops(images, masks))
        logits = self.logit_scale.exp() * emb @ class_embeddings.to(emb).t()
        return logits.view(b, q, -1)
