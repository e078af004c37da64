# Copyright (c) mmfactdiff contributors. All rights reserved.
from mmfactdiff.registry import MODELS
from mmseg.utils import OptConfigType
from torch import Tensor

from .kmeans import per_image_kmeans
from .label_free_segmentor import LabelFreeSegmentor


@MODELS.register_module()
class ColourKMeansSegmentor(LabelFreeSegmentor):
    """Per-image colour k-means: each image's pixels clustered on their
    standardised RGB values into ``num_regions`` clusters (k-means++, a
    fixed seed), at the resolution the pipeline gives the model.

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
        """Cluster ids (B, H, W) of the pixels' colours."""
        return per_image_kmeans(inputs, self.num_regions, self.seed,
                                self.n_init)
