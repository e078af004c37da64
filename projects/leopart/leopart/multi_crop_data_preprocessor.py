# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import List, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from mmfactdiff.registry import MODELS


@MODELS.register_module()
class MultiCropDataPreprocessor(BaseDataPreprocessor):
    """Batch multi-crop views: crop ``i`` of every sample stacked into one
    (B, 3, s_i, s_i) tensor, moved to the model's device.

    mmengine's ``pseudo_collate`` hands over ``inputs`` crop-major (a list
    over crops of the samples' crops). The crops arrive normalised
    (:class:`LeopartMultiCrop` does it per crop), so nothing else is done.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs: List[Sequence[torch.Tensor]] = data['inputs']
        stacked = []
        for i, crops in enumerate(inputs):
            shapes = {tuple(c.shape) for c in crops}
            if len(shapes) != 1:
                raise ValueError(f'MultiCropDataPreprocessor: crop {i} has '
                                 f'different shapes across the batch: '
                                 f'{sorted(shapes)}')
            stacked.append(torch.stack(list(crops)))
        data = dict(inputs=stacked, data_samples=data['data_samples'])
        return self.cast_data(data)
