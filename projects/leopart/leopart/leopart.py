# Copyright (c) mmfactdiff contributors. All rights reserved.
import math
from typing import Dict, List, Optional, Union

import torch
from mmengine.logging import MessageHub
from mmengine.model import BaseModel, ExponentialMovingAverage
from mmengine.optim import OptimWrapper
from torch import Tensor, nn

from mmfactdiff.registry import MODELS
from .vit_checkpoint import load_vit_checkpoint


@MODELS.register_module()
class Leopart(BaseModel):
    """Leopart's dense self-supervised fine-tuning (Ziegler and Asano, CVPR
    2022) on an mmseg backbone.

    A student (``backbone`` + :class:`LeopartHead`) predicts, from every
    multi-crop view, the cluster assignments that an EMA teacher (the same
    networks, mmengine's :class:`ExponentialMovingAverage`) computes by
    Sinkhorn-Knopp on the global crops; the views are aligned on their
    overlaps (the head's ``loss``). The teacher's momentum follows
    Leopart's cosine schedule from ``teacher_momentum`` to
    ``teacher_momentum_end`` over the run (the iteration and run length are
    read from mmengine's message hub). Prototypes are re-normalised before
    every step. Only ``loss_mask='all'`` (every patch) is implemented: the
    official default ``'fg'`` needs the teacher's CLS attention, which
    mmseg's ViT does not return.

    Evaluation is not part of this model: its checkpoint's ``backbone.*``
    are mmseg ViT weights, scored by ``projects/leopart_eval``'s
    ``DenseFeatureExtractor`` and ``DenseClusterMetric`` through
    ``tools/test.py``.

    Args:
        backbone (dict): mmseg backbone config returning (B, C, h, w)
            patch-token maps (``VisionTransformer``; its last output is
            read).
        head (dict): :class:`LeopartHead` config.
        patch_size (int): Input pixels per token (the backbone's).
        teacher_momentum (float): Teacher EMA momentum at the start.
            Defaults to 0.9995 (the official).
        teacher_momentum_end (float): Momentum at the end. Defaults to 1.
        pretrained (str, optional): Local DINO or Leopart ViT file (timm
            names) loaded by :meth:`init_weights`. Defaults to None (random
            initialisation: say so beside any number).
        load_head (bool): Also load the file's projection head and
            prototypes (Leopart files). Defaults to False.
        data_preprocessor (dict, optional): Defaults to
            ``MultiCropDataPreprocessor``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 patch_size: int,
                 teacher_momentum: float = 0.9995,
                 teacher_momentum_end: float = 1.0,
                 pretrained: Optional[str] = None,
                 load_head: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='MultiCropDataPreprocessor')
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not 0 <= teacher_momentum <= teacher_momentum_end <= 1:
            raise ValueError('Leopart: need 0 <= teacher_momentum <= '
                             f'teacher_momentum_end <= 1, got '
                             f'{teacher_momentum}, {teacher_momentum_end}')
        if load_head and pretrained is None:
            raise ValueError('Leopart: load_head=True needs pretrained=PATH')
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)
        self.patch_size = int(patch_size)
        self.teacher_momentum = teacher_momentum
        self.teacher_momentum_end = teacher_momentum_end
        self.pretrained = pretrained
        self.load_head = load_head
        self.teacher = ExponentialMovingAverage(
            self._student(), momentum=1 - teacher_momentum)

    def _student(self) -> nn.ModuleList:
        """The networks the teacher averages, in the teacher's layout."""
        return nn.ModuleList([self.backbone, self.head])

    def init_weights(self) -> None:
        """Initialise, load ``pretrained``, and start the teacher from the
        student's weights."""
        super().init_weights()
        if self.pretrained is not None:
            load_vit_checkpoint(
                self.backbone,
                self.pretrained,
                head=self.head if self.load_head else None)
        self.teacher.module.load_state_dict(self._student().state_dict())

    def _tokens(self, backbone: nn.Module, head: nn.Module, images: Tensor):
        """Embeddings and scores (B, D|P, h, w) of one crop size."""
        feats = backbone(images)
        if not torch.is_tensor(feats):
            feats = feats[-1]
        b, c, h, w = feats.shape
        emb, scores = head(feats.permute(0, 2, 3, 1).reshape(-1, c))
        emb = emb.view(b, h, w, -1).permute(0, 3, 1, 2)
        scores = scores.view(b, h, w, -1).permute(0, 3, 1, 2)
        return emb, scores

    def _by_size(self, backbone, head, crops: List[Tensor]):
        """Run crops of equal size together (as the official does)."""
        out: List = [None] * len(crops)
        start = 0
        while start < len(crops):
            end = start
            while end < len(crops) and crops[end].shape == crops[start].shape:
                end += 1
            emb, scores = self._tokens(backbone, head,
                                       torch.cat(crops[start:end]))
            for i, (e, s) in enumerate(
                    zip(emb.chunk(end - start), scores.chunk(end - start))):
                out[start + i] = (e, s)
            start = end
        return out

    def loss(self, inputs: List[Tensor], data_samples: list) -> Dict:
        """Leopart's loss on a batch of multi-crop views."""
        gc = torch.stack([s.gc_boxes for s in data_samples]).to(inputs[0])
        all_ = torch.stack([s.all_boxes for s in data_samples]).to(inputs[0])
        num_global = gc.shape[1]
        if len(inputs) != gc.shape[2]:
            raise ValueError(f'Leopart: {len(inputs)} crops but boxes for '
                             f'{gc.shape[2]}')
        self.head.normalize_prototypes()
        t_backbone, t_head = self.teacher.module
        t_head.normalize_prototypes()
        with torch.no_grad():
            teacher = self._by_size(t_backbone, t_head, inputs[:num_global])
        student = self._by_size(self.backbone, self.head, inputs)
        loss = self.head.loss([s for _, s in student], [s for _, s in teacher],
                              [e for e, _ in teacher], gc, all_,
                              self.patch_size)
        return dict(loss_leopart=loss)

    def _momentum(self) -> float:
        """Leopart's cosine teacher momentum at the current iteration."""
        hub = MessageHub.get_current_instance()
        it = hub.get_info('iter', 0) or 0
        total = hub.get_info('max_iters', None)
        if not total:
            return self.teacher_momentum
        frac = min(max(it / total, 0.0), 1.0)
        span = self.teacher_momentum_end - self.teacher_momentum
        return self.teacher_momentum_end - span * (math.cos(math.pi * frac) +
                                                   1) / 2

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, Tensor]:
        """A student step, then the teacher's EMA update."""
        log_vars = super().train_step(data, optim_wrapper)
        momentum = self._momentum()
        self.teacher.momentum = 1 - momentum
        self.teacher.update_parameters(self._student())
        log_vars['teacher_momentum'] = torch.tensor(momentum)
        return log_vars

    def forward(self,
                inputs: Union[Tensor, List[Tensor]],
                data_samples: Optional[list] = None,
                mode: str = 'tensor'):
        """``loss``: the loss dict; ``tensor``: the student backbone's
        features of ``inputs`` (a tensor, or the first crop). There is no
        ``predict``: evaluate the checkpoint with ``projects/leopart_eval``.
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            images = inputs[0] if isinstance(inputs, list) else inputs
            feats = self.backbone(images)
            return feats if torch.is_tensor(feats) else feats[-1]
        raise RuntimeError(
            f'Leopart has no {mode!r} mode: it trains only; score its '
            'checkpoint with a projects/leopart_eval config (tools/test.py)')
