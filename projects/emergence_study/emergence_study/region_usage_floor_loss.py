# Copyright (c) mmfactdiff contributors. All rights reserved.
import math
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from mmfactdiff.registry import MODELS


@MODELS.register_module()
class RegionUsageFloorLoss(nn.Module):
    """Keep every region in use on lightly noised images.

    A remedy for the factorized model's collapse (every pixel in one region,
    the mask logits saturated so that no gradient brings the other region
    back). For each training image whose timestep is below ``max_t`` and
    each region k, with ``u_k`` the image's mean mask probability of k::

        loss = loss_weight * mean(relu(log(floor) - log(u_k)))

    It is zero while every region covers at least ``floor`` of the image,
    so it leaves a segmenting model alone; on a collapsed one its gradient
    does not vanish with the saturated softmax (the log undoes the
    softmax's ``p``), so it lifts the unused region's logits everywhere
    until Gumbel sampling explores it again. It is restricted to low noise
    because a healthy model uses one region on heavily noised images
    (nothing there to split), and the read-out is at low noise. Not in the
    paper, and it did not stop collapse (docs/emergence.md, section 5):
    kept in the study project to reproduce its rows.

    Args:
        floor (float): Smallest mean probability a region may have on an
            image, in (0, 1/K]. Defaults to 0.05.
        max_t (int): Only images noised to ``t < max_t`` count. Defaults to
            100.
        loss_weight (float): Weight of the loss. Defaults to 0.05.
        loss_name (str): Key of the loss in the losses dict; it must
            contain ``'loss'``. Defaults to 'loss_usage_floor'.
    """

    def __init__(self,
                 floor: float = 0.05,
                 max_t: int = 100,
                 loss_weight: float = 0.05,
                 loss_name: str = 'loss_usage_floor') -> None:
        super().__init__()
        if not 0. < float(floor) < 1.:
            raise ValueError(
                f'RegionUsageFloorLoss: floor must be in (0, 1), got {floor}')
        if int(max_t) < 1:
            raise ValueError(
                f'RegionUsageFloorLoss: max_t must be >= 1, got {max_t}')
        if 'loss' not in loss_name:
            raise ValueError(
                f"RegionUsageFloorLoss: loss_name must contain 'loss' "
                f'(mmengine only back-propagates such keys), got '
                f'{loss_name!r}')
        self.floor = float(floor)
        self.max_t = int(max_t)
        self.loss_weight = float(loss_weight)
        self._loss_name = loss_name

    def forward(self,
                probs: Tensor,
                t: Tensor,
                weight: Optional[Tensor] = None) -> Tensor:
        """The usage-floor penalty.

        Args:
            probs (Tensor): Region probabilities (B, K, H, W), summing to
                one over K (the mask generator's softmax, not the sampled
                hard masks).
            t (Tensor): Timesteps of the images (B, ).
            weight (Tensor, optional): Unused; kept for the loss signature.

        Returns:
            Tensor: The scalar loss (0, still in the graph, when no image
            is below ``max_t``).
        """
        if probs.dim() != 4 or t.shape != probs.shape[:1]:
            raise ValueError(
                f'RegionUsageFloorLoss: expected probs (B, K, H, W) and t '
                f'(B, ), got {tuple(probs.shape)} and {tuple(t.shape)}')
        if self.floor * probs.shape[1] > 1.:
            raise ValueError(
                f'RegionUsageFloorLoss: floor {self.floor} x K '
                f'{probs.shape[1]} > 1, no partition can satisfy it; use '
                f'floor <= 1/K')
        low = t < self.max_t
        if not bool(low.any()):
            return probs.sum() * 0.
        usage = probs[low].float().mean(dim=(2, 3))
        gap = math.log(self.floor) - usage.clamp_min(1e-12).log()
        return self.loss_weight * torch.relu(gap).mean()

    @property
    def loss_name(self) -> str:
        """Key of the loss in the losses dict."""
        return self._loss_name
