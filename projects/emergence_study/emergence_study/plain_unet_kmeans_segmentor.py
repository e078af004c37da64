# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Sequence

import torch.nn.functional as F
from torch import Tensor

from mmfactdiff.models import FactorizedDiffusionSegmentor
from mmfactdiff.models.utils import UNetFeatures, resize_masks
from mmfactdiff.registry import MODELS
from .kmeans import per_image_kmeans


@MODELS.register_module()
class PlainUNetKMeansSegmentor(FactorizedDiffusionSegmentor):
    """A plain U-Net denoiser read out by per-image k-means on its
    decoder's last features (the paper's "DatasetDDPM-unsup" control, per
    image).

    It is a :class:`FactorizedDiffusionSegmentor` with one region
    (``decode_head.num_classes=1``): its mask is 1 everywhere, so the
    decoder sees unmasked skips and the network is an ordinary U-Net,
    trained by the same loss, data and schedule as the factorized model.
    At test time the image is noised to ``test_cfg.t`` as for the
    factorized read-out, the decoder's last block features (before the
    output conv) are computed, and each image's pixels are clustered into
    ``num_clusters`` regions.

    Args:
        num_clusters (int): Clusters per image. Defaults to 2.
        kmeans_seed (int): k-means++ seed, the same for every image.
            Defaults to 0.
        **kwargs: :class:`FactorizedDiffusionSegmentor` arguments; the
            decode head must have ``num_classes=1``.
    """

    def __init__(self,
                 num_clusters: int = 2,
                 kmeans_seed: int = 0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if self.decode_head.out_channels != 1:
            raise ValueError('PlainUNetKMeansSegmentor is a plain U-Net: set '
                             'decode_head.num_classes=1, got '
                             f'{self.decode_head.out_channels}')
        if self.sub_mask_head is not None:
            raise ValueError('PlainUNetKMeansSegmentor takes no '
                             'sub_mask_head')
        self.num_clusters = num_clusters
        self.kmeans_seed = kmeans_seed
        # the read-out's regions (names, colours, metrics) are the clusters
        self.num_classes = self.out_channels = num_clusters

    def region_masks(self,
                     feats: UNetFeatures,
                     size: Sequence[int],
                     sample: bool = True) -> Tensor:
        """Training: the single all-ones mask. Test: one-hot k-means
        clusters (B, num_clusters, H, W) of the decoder features."""
        if self.training:
            return super().region_masks(feats, size, sample)
        trunk = self.decoder.decoders[0]['trunk']
        emb = feats.emb if self.decoder.emb_channels else None
        h = trunk(list(feats[:-1]), feats[-1], emb)
        ids = per_image_kmeans(h, self.num_clusters, self.kmeans_seed)
        masks = F.one_hot(ids, self.num_clusters).permute(0, 3, 1, 2)
        return resize_masks(masks.to(h.dtype), size)
