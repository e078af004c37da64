# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import List

import torch.nn.functional as F
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.utils import OptConfigType, OptSampleList, SampleList
from torch import Tensor


class LabelFreeSegmentor(BaseSegmentor):
    """Base of the parameter-free baselines: a rule maps each image to
    region ids; ``predict`` returns them through mmseg's post-processing
    (resized to the original image size like any model's logits), so they
    are scored by the same metrics and ``tools/test.py`` as the models.

    Subclasses implement :meth:`region_ids`. They have no weights and do
    not train: ``tools/test.py CONFIG`` runs them without a checkpoint.

    Args:
        num_regions (int): Number of regions K the rule outputs.
        data_preprocessor (dict, optional): ``SegDataPreProcessor`` config.
        init_cfg (dict, optional): Unused (no weights).
    """

    def __init__(self,
                 num_regions: int = 2,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if num_regions < 1:
            raise ValueError(f'num_regions must be >= 1, got {num_regions}')
        self.num_regions = self.out_channels = num_regions
        self.align_corners = False

    def region_ids(self, inputs: Tensor) -> Tensor:
        """Region ids (B, H, W) in ``[0, num_regions)`` for the inputs."""
        raise NotImplementedError

    def extract_feat(self, inputs: Tensor) -> Tensor:
        """The images themselves."""
        return inputs

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """One-hot region maps (B, K, H, W) at the input size."""
        ids = self.region_ids(inputs)
        return F.one_hot(ids, self.num_regions).permute(0, 3, 1,
                                                        2).to(inputs.dtype)

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Region ids for every image, as ``pred_sem_seg``."""
        metas = ([s.metainfo
                  for s in data_samples] if data_samples is not None else None)
        return self.postprocess_result(
            self.encode_decode(inputs, metas), data_samples)

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Tensor:
        return self.encode_decode(inputs, None)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        raise RuntimeError(f'{type(self).__name__} is a fixed rule with no '
                           'weights: it is evaluated, never trained')
