# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Sequence

import torch
from torch import Tensor, nn

from mmfactdiff.registry import MODELS


@MODELS.register_module()
class GMMNLoss(nn.Module):
    """Maximum mean discrepancy between generated and real features under a
    sum of Gaussian kernels (the moment-matching loss of generative moment
    matching networks, as PADing's feature generator uses it).

    With kernels ``k_s(x, y) = exp(-|x - y|^2 / (2 s))`` for each ``s`` in
    ``sigmas``, the loss is the square root of
    ``sum_s [mean k_s(fake, fake) + mean k_s(real, real)
    - 2 mean k_s(fake, real)]``: zero when the two sets coincide.

    Args:
        sigmas (Sequence[float]): Kernel bandwidths (variances). Defaults to
            PADing's ``(2, 5, 10, 20, 40, 80)``.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss in the log. Defaults to
            ``'loss_gmmn'``.
    """

    def __init__(self,
                 sigmas: Sequence[float] = (2, 5, 10, 20, 40, 80),
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_gmmn') -> None:
        super().__init__()
        if not sigmas or any(s <= 0 for s in sigmas):
            raise ValueError('GMMNLoss: sigmas must be positive kernel '
                             f'bandwidths, got {sigmas}')
        self.sigmas = tuple(float(s) for s in sigmas)
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, fake: Tensor, real: Tensor) -> Tensor:
        """Args:
            fake (Tensor): Generated features (M, D).
            real (Tensor): Real features (N, D).

        Returns:
            Tensor: The weighted loss (a scalar).
        """
        if fake.ndim != 2 or real.ndim != 2 or fake.shape[1] != real.shape[1]:
            raise ValueError(
                'GMMNLoss: expected features (M, D) and (N, D), '
                f'got {tuple(fake.shape)} and {tuple(real.shape)}')
        x = torch.cat([fake, real]).float()
        sq = torch.cdist(x, x).pow(2)
        # +1/M for generated rows, -1/N for real ones: s^T K s is the MMD^2
        s = torch.cat([
            x.new_full((len(fake), ), 1. / len(fake)),
            x.new_full((len(real), ), -1. / len(real))
        ])
        weights = s[:, None] * s[None]
        mmd2 = sum(
            (weights * torch.exp(-sq / (2 * v))).sum() for v in self.sigmas)
        # clamped: rounding can make an MMD^2 of identical sets negative
        return self.loss_weight * mmd2.clamp_min(1e-12).sqrt()

    @property
    def loss_name(self) -> str:
        return self._loss_name
