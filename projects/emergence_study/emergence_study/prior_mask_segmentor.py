# Copyright (c) mmfactdiff contributors. All rights reserved.
import torch
from mmseg.utils import OptConfigType
from torch import Tensor

from mmfactdiff.registry import MODELS
from .label_free_segmentor import LabelFreeSegmentor

PRIOR_SHAPES = ('all', 'centred_ellipse')


@MODELS.register_module()
class PriorMaskSegmentor(LabelFreeSegmentor):
    """The same mask for every image, whatever it shows.

    - ``'all'``: every pixel is region 1 (the all-foreground baseline);
    - ``'centred_ellipse'``: region 1 is the centred ellipse whose axes are
      half the image's width and height (a centre prior).

    Args:
        shape (str): ``'all'`` or ``'centred_ellipse'``. Defaults to 'all'.
        data_preprocessor (dict, optional): ``SegDataPreProcessor`` config.
        init_cfg (dict, optional): Unused.
    """

    def __init__(self,
                 shape: str = 'all',
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        if shape not in PRIOR_SHAPES:
            raise ValueError(
                f'shape must be one of {PRIOR_SHAPES}, got {shape!r}')
        super().__init__(2, data_preprocessor, init_cfg)
        self.shape = shape

    def region_ids(self, inputs: Tensor) -> Tensor:
        """The prior's region ids (B, H, W)."""
        b, _, h, w = inputs.shape
        if self.shape == 'all':
            return inputs.new_ones((b, h, w), dtype=torch.long)
        # pixel centres in [-1, 1]; the ellipse's semi-axes are 1/2 of that
        ys = (torch.arange(h, device=inputs.device) + 0.5) / h * 2 - 1
        xs = (torch.arange(w, device=inputs.device) + 0.5) / w * 2 - 1
        inside = (ys[:, None] / 0.5)**2 + (xs[None] / 0.5)**2 <= 1
        return inside.long().expand(b, h, w).clone()
