# Copyright (c) mmfactdiff contributors. All rights reserved.
import math

import torch
import torch.nn.functional as F
from mmseg.utils import OptConfigType
from torch import Tensor

from mmfactdiff.models.utils import per_image_kmeans
from mmfactdiff.registry import MODELS
from .label_free_segmentor import LabelFreeSegmentor


@MODELS.register_module()
class ColourKMeansSegmentor(LabelFreeSegmentor):
    """Per-image colour k-means: each image's pixels clustered on their
    standardised RGB values into ``num_regions`` clusters (k-means++, a
    fixed seed), at the resolution the pipeline gives the model.

    Cluster ids are ordered by the clusters' mean luminance (0 the
    darkest), so that region k means the same thing in every image: the
    DAVIS unsupervised protocol scores proposal k over all frames of a
    video. Per-image scores (the polarity rule, Hungarian matching) do not
    depend on the order.

    Args:
        num_regions (int): Clusters per image. Defaults to 2.
        seed (int): k-means++ seed, the same for every image.
            Defaults to 0.
        n_init (int): Initialisations per image; the lowest-inertia
            clustering is kept (:func:`per_image_kmeans`). Defaults to 1.
        data_preprocessor (dict, optional): ``SegDataPreProcessor`` config.
        init_cfg (dict, optional): Unused.
    """

    def __init__(self,
                 num_regions: int = 2,
                 seed: int = 0,
                 n_init: int = 1,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(num_regions, data_preprocessor, init_cfg)
        self.seed = seed
        self.n_init = n_init

    def region_ids(self, inputs: Tensor) -> Tensor:
        """Cluster ids (B, H, W) of the pixels' colours, darkest first."""
        ids = per_image_kmeans(inputs, self.num_regions, self.seed,
                               self.n_init)
        # ITU-R BT.601 luma of the (RGB) inputs
        weights = inputs.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        luma = (inputs.float() * weights).sum(1)
        onehot = F.one_hot(ids, self.num_regions).float()  # B, H, W, K
        count = onehot.sum((1, 2))
        mean = (onehot * luma[..., None]).sum((1, 2)) / count.clamp(min=1)
        # empty clusters sort last
        mean = torch.where(count > 0, mean, torch.full_like(mean, math.inf))
        rank = mean.argsort(1).argsort(1)  # B, K: rank of each cluster
        return rank.gather(1, ids.flatten(1)).view_as(ids)
