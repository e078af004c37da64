# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmfactdiff.registry import MODELS


@MODELS.register_module()
class DenoisingMSELoss(nn.Module):
    """Mean squared error between the predicted and the true noise.

    The epsilon-prediction objective of DDPM (Ho et al., 2020), the only
    loss the factorized diffusion model trains with: it reads no labels.
    Configured as the segmentor's ``loss_denoise`` (as mmseg heads take
    ``loss_decode``); computed in fp32 so that bf16/fp16 autocast does not
    round the loss.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Key of the loss in the losses dict; it must
            contain ``'loss'`` for mmengine to back-propagate it. Defaults
            to 'loss_denoise'.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_denoise') -> None:
        super().__init__()
        if 'loss' not in loss_name:
            raise ValueError(
                f"DenoisingMSELoss: loss_name must contain 'loss' (mmengine "
                f'only back-propagates such keys), got {loss_name!r}')
        self.loss_weight = float(loss_weight)
        self._loss_name = loss_name

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None) -> Tensor:
        """The weighted mean squared error.

        Args:
            pred (Tensor): Predicted noise (B, C, H, W).
            target (Tensor): True noise, same shape.
            weight (Tensor, optional): Per-sample weights (B, ), e.g. for
                timestep weighting; the mean is over all elements.

        Returns:
            Tensor: The scalar loss.
        """
        if pred.shape != target.shape:
            raise ValueError(
                f'DenoisingMSELoss: pred {tuple(pred.shape)} and target '
                f'{tuple(target.shape)} differ in shape')
        loss = F.mse_loss(pred.float(), target.float(), reduction='none')
        if weight is not None:
            loss = loss * weight.float().view(-1, *([1] * (loss.dim() - 1)))
        return self.loss_weight * loss.mean()

    @property
    def loss_name(self) -> str:
        """Key of the loss in the losses dict."""
        return self._loss_name
