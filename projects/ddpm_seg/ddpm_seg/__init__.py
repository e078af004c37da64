# Copyright (c) mmfactdiff contributors. All rights reserved.
"""DDPM-seg (Baranchuk et al., ICLR 2022) as mmseg modules: pixel
features of a frozen diffusion U-Net's decoder at several noise levels
(:class:`DiffusionFeatureBackbone`, wrapping this package's plain U-Net
or guided-diffusion's, :class:`ADMUNet`), an ensemble of pixel MLPs
trained on pixels drawn per batch (:class:`PixelMLPEnsembleHead`), and
the segmentor that joins them (:class:`PixelClassifierSegmentor`); and
the paper's label-free control, DatasetDDPM-unsup: k-means over the same
features (:class:`FeatureKMeansSegmentor`)."""
from .adm_checkpoint import (adm_key_map, convert_adm_state_dict,
                             legacy_qkv_to_split_first, load_adm_checkpoint)
from .adm_resample_res_block import ADMResampleResBlock
from .adm_unet import ADMUNet
from .diffusion_feature_backbone import DiffusionFeatureBackbone
from .feature_kmeans_segmentor import FeatureKMeansSegmentor
from .pixel_classifier_segmentor import PixelClassifierSegmentor
from .pixel_mlp_ensemble_head import PixelMLPEnsembleHead

__all__ = [
    'ADMResampleResBlock', 'ADMUNet', 'DiffusionFeatureBackbone',
    'FeatureKMeansSegmentor', 'PixelClassifierSegmentor',
    'PixelMLPEnsembleHead', 'adm_key_map', 'convert_adm_state_dict',
    'legacy_qkv_to_split_first', 'load_adm_checkpoint'
]
