# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.ops import roi_align
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmfactdiff.registry import MODELS


def sinkhorn(scores: Tensor, epsilon: float, iterations: int) -> Tensor:
    """Sinkhorn-Knopp equipartition of N vectors over P prototypes (SwAV's,
    as Leopart uses it on one device).

    Args:
        scores (Tensor): (N, P) prototype scores.
        epsilon (float): Entropic regularisation (scores / epsilon).
        iterations (int): Row/column normalisation rounds.

    Returns:
        Tensor: (N, P) soft assignments, each row summing to 1.
    """
    # subtracting the maximum leaves the normalised result unchanged and
    # keeps exp() finite
    logits = (scores.float() / epsilon)
    q = torch.exp(logits - logits.max()).t()  # P, N
    q = q / q.sum()
    num_protos, num_vectors = q.shape
    for _ in range(iterations):
        q = q / q.sum(dim=1, keepdim=True) / num_protos
        q = q / q.sum(dim=0, keepdim=True) / num_vectors
    return (q / q.sum(dim=0, keepdim=True)).t()


@MODELS.register_module()
class LeopartHead(BaseModule):
    """Leopart's dense clustering head and loss (Ziegler and Asano, CVPR
    2022; ``src/leopart.py`` and ``src/vit.py`` of the official code).

    Every patch token goes through a projection MLP (``num_layers`` linear
    layers with GELU between them, ``in_channels -> hidden_channels -> ...
    -> out_channels``), is L2-normalised and scored against
    ``num_prototypes`` L2-normalised prototypes (a bias-free linear
    layer). The teacher's scores on each global crop are turned into soft
    cluster assignments by Sinkhorn-Knopp (with an optional queue of past
    teacher embeddings to enlarge the equipartition); the student predicts
    them (softmax at ``temperature``) from every other crop. Both maps are
    aligned on the two crops' overlap by ``roi_align`` to
    ``roi_size x roi_size`` cells before the cross-entropy, which is
    averaged over cells, other crops and assigned crops
    (``loss_mask='all'``: every patch).

    Args:
        in_channels (int): Width of the backbone's patch tokens.
        hidden_channels (int): Width of the MLP's hidden layers.
            Defaults to 2048 (the official).
        out_channels (int): Embedding width. Defaults to 256.
        num_layers (int): Linear layers of the MLP. Defaults to 3.
        num_prototypes (int): Prototypes. Defaults to 300.
        temperature (float): Student softmax temperature. Defaults to 0.1.
        epsilon (float): Sinkhorn regularisation. Defaults to 0.05.
        sinkhorn_iterations (int): Sinkhorn rounds. Defaults to 3.
        roi_size (int): Side of the aligned overlap maps. Defaults to 7.
        queue_length (int): Past teacher embeddings kept per global crop
            (0: no queue; the official VOC setting keeps 8192). Each step
            stores up to 10 a image. Defaults to 0.
        num_global_crops (int): Global crops, one queue each. Defaults
            to 2.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int = 2048,
                 out_channels: int = 256,
                 num_layers: int = 3,
                 num_prototypes: int = 300,
                 temperature: float = 0.1,
                 epsilon: float = 0.05,
                 sinkhorn_iterations: int = 3,
                 roi_size: int = 7,
                 queue_length: int = 0,
                 num_global_crops: int = 2,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_layers < 1:
            raise ValueError(f'LeopartHead: num_layers must be >= 1, got '
                             f'{num_layers}')
        if queue_length < 0:
            raise ValueError('LeopartHead: queue_length must be >= 0, got '
                             f'{queue_length}')
        if num_layers == 1:
            self.projection_head = nn.Linear(in_channels, out_channels)
        else:
            layers: List[nn.Module] = [
                nn.Linear(in_channels, hidden_channels),
                nn.GELU()
            ]
            for _ in range(num_layers - 2):
                layers += [
                    nn.Linear(hidden_channels, hidden_channels),
                    nn.GELU()
                ]
            layers.append(nn.Linear(hidden_channels, out_channels))
            self.projection_head = nn.Sequential(*layers)
        self.prototypes = nn.Linear(out_channels, num_prototypes, bias=False)
        self.temperature = temperature
        self.epsilon = epsilon
        self.sinkhorn_iterations = sinkhorn_iterations
        self.roi_size = roi_size
        self.queue_length = queue_length
        # filled as training goes; used once a queue's last row is set
        self.register_buffer(
            'queue', torch.zeros(num_global_crops, queue_length, out_channels))

    @torch.no_grad()
    def normalize_prototypes(self) -> None:
        """Put the prototypes back on the unit sphere (every step)."""
        self.prototypes.weight.copy_(
            F.normalize(self.prototypes.weight, dim=1, p=2))

    def forward(self, tokens: Tensor) -> Tuple[Tensor, Tensor]:
        """Embeddings and prototype scores of (N, C) tokens."""
        emb = F.normalize(self.projection_head(tokens), dim=1, p=2)
        return emb, self.prototypes(emb)

    def _assign(self, scores: Tensor, emb: Tensor, slot: int,
                batch: int) -> Tensor:
        """Sinkhorn assignments of one global crop's teacher scores, the
        queue's past embeddings joining the equipartition."""
        n = scores.shape[0]
        if self.queue_length == 0:
            return sinkhorn(scores, self.epsilon, self.sinkhorn_iterations)
        if slot >= self.queue.shape[0]:
            raise ValueError(f'LeopartHead: global crop {slot} has no queue '
                             f'(num_global_crops={self.queue.shape[0]})')
        queue = self.queue[slot]
        full = bool(queue[-1].any())
        if full:
            scores = torch.cat([queue @ self.prototypes.weight.t(), scores])
        # newest first: shift, then store a random draw of this batch's
        keep = min(n, batch * 10, self.queue_length)
        rows = torch.randperm(n, device=emb.device)[:keep]
        queue[keep:] = queue[:-keep].clone()
        queue[:keep] = emb[rows]
        q = sinkhorn(scores, self.epsilon, self.sinkhorn_iterations)
        return q[-n:]

    def loss(self, student: List[Tensor], teacher: List[Tensor],
             teacher_emb: List[Tensor], gc_boxes: Tensor, all_boxes: Tensor,
             patch_size: int) -> Tensor:
        """Leopart's spatial loss.

        Args:
            student (list[Tensor]): Student scores per crop, each
                (B, P, h_v, w_v).
            teacher (list[Tensor]): Teacher scores per global crop, each
                (B, P, h, w).
            teacher_emb (list[Tensor]): Teacher embeddings per global crop,
                each (B, D, h, w) (for the queue).
            gc_boxes (Tensor): (B, G, V, 4) overlaps in global-crop pixels.
            all_boxes (Tensor): (B, V, G, 4) overlaps in crop-v pixels.
            patch_size (int): Input pixels per token.

        Returns:
            Tensor: The loss (scalar).
        """
        num_views = len(student)
        batch = gc_boxes.shape[0]
        scale = 1.0 / patch_size
        total = student[0].new_zeros(())
        for g, scores in enumerate(teacher):
            with torch.no_grad():
                b, p, h, w = scores.shape
                flat = scores.permute(0, 2, 3, 1).reshape(-1, p)
                emb = teacher_emb[g].permute(0, 2, 3, 1).reshape(
                    -1, teacher_emb[g].shape[1])
                q = self._assign(flat, emb, g, batch)
                q = q.reshape(b, h, w, p).permute(0, 3, 1, 2).contiguous()
                # every overlap of global crop g, image-major
                rois = self._rois(gc_boxes[:, g].reshape(-1, 4), batch,
                                  num_views)
                aligned_q = roi_align(q, rois, self.roi_size, scale, 0, 'avg',
                                      True)
                aligned_q = aligned_q.view(batch, num_views, p, self.roi_size,
                                           self.roi_size)
            sub = total.new_zeros(())
            for v in range(num_views):
                if v == g:
                    continue
                rois = self._rois(all_boxes[:, v, g], batch, 1)
                # mmcv's CPU kernel reads the memory as contiguous NCHW
                pred = roi_align(student[v].float().contiguous(), rois,
                                 self.roi_size, scale, 0, 'avg', True)
                log_p = F.log_softmax(pred / self.temperature, dim=1)
                sub = sub - (aligned_q[:, v] * log_p).sum(1).mean()
            total = total + sub / (num_views - 1)
        return total / len(teacher)

    @staticmethod
    def _rois(boxes: Tensor, batch: int, per_image: int) -> Tensor:
        """mmcv's (n, 5) rois: image index, then x1, y1, x2, y2."""
        index = torch.arange(
            batch, device=boxes.device,
            dtype=boxes.dtype).repeat_interleave(per_image)
        return torch.cat([index[:, None], boxes.reshape(-1, 4)], dim=1)
