# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Optional, Tuple, Union

import torch
from torch import Tensor

from mmfactdiff.models.segmentors import FactorizedDiffusionSegmentor
from mmfactdiff.registry import MODELS
from mmfactdiff.utils import check_int


@MODELS.register_module()
class LowNoiseMaskGradSegmentor(FactorizedDiffusionSegmentor):
    """The factorized model whose masks learn only at low noise: a remedy
    for collapse that the study measured and found no better (both seeds
    collapsed; docs/emergence.md, section 5). Not in the paper.

    In training, the masks pass gradients (to the mask generator and,
    through it, the encoder) only for images noised to
    ``t <= mask_grad_max_t``; at larger t the decoder still trains on the
    same masks, detached. The forward pass is the parent's.

    Args:
        mask_grad_max_t (int): Largest noise level whose images train the
            masks; below the scheduler's number of timesteps.
        **kwargs: The arguments of :class:`FactorizedDiffusionSegmentor`.
    """

    def __init__(self, mask_grad_max_t: int, **kwargs) -> None:
        super().__init__(**kwargs)
        check_int(mask_grad_max_t, 'mask_grad_max_t', 0)
        if mask_grad_max_t >= len(self.scheduler):
            raise ValueError(
                f'mask_grad_max_t={mask_grad_max_t} leaves no timestep out '
                f'of the scheduler\'s {len(self.scheduler)}: use '
                'FactorizedDiffusionSegmentor for the paper\'s training')
        self.mask_grad_max_t = mask_grad_max_t

    def _denoise(self, x_t: Tensor, t: Union[Tensor, int],
                 labels: Optional[Tensor]) -> Tuple[Tensor, Tensor, Tensor]:
        feats = self.extract_feat(x_t, t, labels)
        masks, probs = self._masks_and_probs(
            feats, x_t.shape[-2:], sample=True)
        if self.training and torch.is_tensor(t) and t.ndim == 1:
            learn = (t <= self.mask_grad_max_t).view(-1, 1, 1, 1)
            masks = torch.where(learn, masks, masks.detach())
        return self.decoder(feats, masks), masks, probs
