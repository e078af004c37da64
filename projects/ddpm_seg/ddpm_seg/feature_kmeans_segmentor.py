# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import List, Optional

import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.segmentors import BaseSegmentor
from mmseg.utils import ConfigType, OptConfigType, OptSampleList, SampleList
from torch import Tensor, nn

from mmfactdiff.models.utils import per_image_kmeans
from mmfactdiff.registry import MODELS


@MODELS.register_module()
class FeatureKMeansSegmentor(BaseSegmentor):
    """k-means over a frozen backbone's pixel features: DatasetDDPM-unsup,
    the control of the factorized diffusion paper (its Tables 3 and 4), when
    the backbone is :class:`DiffusionFeatureBackbone`.

    Two read-outs of the same features, both label-free:

    - per image (``pred_sem_seg``): each image's pixels are standardised
      per channel and clustered into ``num_clusters`` regions
      (:func:`mmfactdiff.models.utils.per_image_kmeans`, k-means++ with a
      fixed seed), scored like the factorized model's regions
      (``ForegroundIoUMetric``'s polarity rule, ``HungarianIoUMetric``);
    - over the dataset: with ``feature_field`` set, every image's feature
      map is also written to that data sample field, where
      ``projects/leopart_eval``'s ``DenseClusterMetric`` clusters the
      whole split at once and matches clusters to classes with the
      Hungarian algorithm (Leopart's protocol, the paper's "k-means on the
      features of a plain DDPM").

    Weights: the model is evaluation-only (``loss`` raises, every parameter
    is frozen, the modules stay in eval mode) and takes the checkpoint given
    to ``tools/test.py``. With ``weights_prefix``, a checkpoint that holds
    none of this model's keys is read as a checkpoint of the network the
    backbone wraps: its keys get ``weights_prefix`` prepended, so
    ``'backbone.unet.'`` loads a ``tools/train.py`` checkpoint of the plain
    U-Net into a :class:`DiffusionFeatureBackbone` as it is. A checkpoint
    that leaves any backbone weight unset is refused, naming the keys.

    Args:
        backbone (dict): Backbone config; ``forward(inputs)`` returns a
            tuple whose last element is the (B, C, h, w) pixel features.
        num_clusters (int): Regions per image. Defaults to 2.
        kmeans_seed (int): k-means++ seed, the same for every image.
            Defaults to 0.
        n_init (int): k-means initialisations per image; the lowest
            within-cluster sum of squares is kept. Defaults to 1.
        feature_field (str, optional): Data sample field that receives each
            image's (C, h, w) features for a dataset-level metric, as
            computed (padding is not cropped nor a flip undone: use
            fixed-size inputs without test-time augmentation); None writes
            none (they are large). Defaults to None.
        weights_prefix (str, optional): Prefix that turns the keys of the
            wrapped network's own checkpoint into this model's (see above).
            Defaults to None.
        data_preprocessor (dict, optional): ``SegDataPreProcessor`` config;
            the normalisation the backbone was trained with.
            Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 backbone: ConfigType,
                 num_clusters: int = 2,
                 kmeans_seed: int = 0,
                 n_init: int = 1,
                 feature_field: Optional[str] = None,
                 weights_prefix: Optional[str] = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if num_clusters < 1:
            raise ValueError('FeatureKMeansSegmentor: num_clusters must be '
                             f'>= 1, got {num_clusters}')
        if n_init < 1:
            raise ValueError('FeatureKMeansSegmentor: n_init must be >= 1, '
                             f'got {n_init}')
        if feature_field is not None and (not isinstance(feature_field, str)
                                          or not feature_field):
            raise ValueError('FeatureKMeansSegmentor: feature_field must be '
                             f'a field name or None, got {feature_field!r}')
        self.backbone = MODELS.build(backbone)
        # the regions are the clusters (names, colours and metrics read K)
        self.num_classes = self.out_channels = num_clusters
        self.num_clusters = num_clusters
        self.kmeans_seed = kmeans_seed
        self.n_init = n_init
        self.feature_field = feature_field
        self.weights_prefix = weights_prefix
        self.align_corners = False
        for param in self.parameters():
            param.requires_grad_(False)
        self.train(False)
        self._register_load_state_dict_pre_hook(self._prefix_foreign_keys)
        self.register_load_state_dict_post_hook(self._check_loaded)

    def _prefix_foreign_keys(self, state_dict: dict, prefix: str, *args):
        """Read a checkpoint with none of this model's keys as one of the
        wrapped network (``weights_prefix``)."""
        if self.weights_prefix is None:
            return
        own = set(self.state_dict())
        keys = [k for k in state_dict if k.startswith(prefix)]
        if not keys or any(k[len(prefix):] in own for k in keys):
            return
        for key in keys:
            state_dict[prefix + self.weights_prefix +
                       key[len(prefix):]] = state_dict.pop(key)
        # what lies outside the wrapped network (e.g. the fixed noise of
        # DiffusionFeatureBackbone) keeps its built values; the wrapped
        # network's own keys must all come from the checkpoint
        for name, value in self.state_dict().items():
            if not name.startswith(self.weights_prefix):
                state_dict.setdefault(prefix + name, value)

    @staticmethod
    def _check_loaded(module: nn.Module, incompatible_keys) -> None:
        """Refuse a checkpoint that leaves backbone weights unset."""
        missing = [
            k for k in incompatible_keys.missing_keys if
            k.startswith('backbone.') and not k.endswith('num_batches_tracked')
        ]
        if missing:
            raise RuntimeError(
                f'FeatureKMeansSegmentor: the checkpoint lacks {len(missing)} '
                f'backbone weights (e.g. {missing[:3]}): give a checkpoint '
                "with this model's backbone.* keys, or one of the wrapped "
                'network with weights_prefix set (e.g. backbone.unet. for a '
                'tools/train.py checkpoint of the plain U-Net)')

    def train(self, mode: bool = True) -> 'FeatureKMeansSegmentor':
        """Stay in eval mode: the features come from a frozen network."""
        return super().train(False)

    def extract_feat(self, inputs: Tensor) -> Tensor:
        """Pixel features (B, C, h, w): the backbone's last output."""
        outs = self.backbone(inputs)
        return outs if isinstance(outs, Tensor) else outs[-1]

    def _cluster(self, feats: Tensor, size) -> Tensor:
        """One-hot per-image clusters (B, K, *size) of ``feats``."""
        ids = per_image_kmeans(feats, self.num_clusters, self.kmeans_seed,
                               self.n_init)
        onehot = F.one_hot(ids, self.num_clusters).permute(0, 3, 1, 2)
        onehot = onehot.to(feats.dtype)
        if tuple(onehot.shape[-2:]) != tuple(size):
            onehot = F.interpolate(onehot, size=size, mode='nearest')
        return onehot

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: Optional[List[dict]]) -> Tensor:
        """One-hot region maps (B, K, H, W) at the input size."""
        return self._cluster(self.extract_feat(inputs), inputs.shape[-2:])

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Per-image clusters as ``pred_sem_seg`` (original image size,
        through mmseg's post-processing), plus the features in
        ``feature_field`` when it is set."""
        feats = self.extract_feat(inputs)
        results = self.postprocess_result(
            self._cluster(feats, inputs.shape[-2:]), data_samples)
        if self.feature_field is not None:
            for sample, feat in zip(results, feats):
                sample.set_field(
                    PixelData(data=feat.float().cpu()), self.feature_field)
        return results

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Tensor:
        return self.encode_decode(inputs, None)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        raise RuntimeError(
            'FeatureKMeansSegmentor has nothing to train: train the network '
            'it reads with its own config, then evaluate it with '
            'tools/test.py CONFIG CHECKPOINT')
