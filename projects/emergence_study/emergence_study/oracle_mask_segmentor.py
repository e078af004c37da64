# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Sequence

import torch
import torch.nn.functional as F
from mmseg.utils import SampleList
from torch import Tensor

from mmfactdiff.models.segmentors import FactorizedDiffusionSegmentor
from mmfactdiff.registry import MODELS


@MODELS.register_module()
class OracleMaskSegmentor(FactorizedDiffusionSegmentor):
    """Diagnostic: the factorized model trained on the ground-truth regions.

    The decoder is trained exactly as the factorized model's, but its
    masks are the one-hot figure/ground of the training labels (region 1:
    every label > 0 that is not ``ignore_index``; region 0: the rest)
    instead of the mask generator's. Its denoising loss, against a plain
    U-Net trained alike (``K = 1``), says whether the objective rewards the
    figure/ground factorization on a dataset at all: if decoding the
    object and the background separately does not lower the loss, no
    training recipe will make the regions follow them. It reads labels,
    so it is a diagnostic of the study (docs/emergence.md, section 4), not
    a segmentation method; the mask generator is built but not trained.

    Args:
        ignore_index (int): Label value that counts as background.
            Defaults to 255.
        **kwargs: :class:`FactorizedDiffusionSegmentor` arguments; the
            mask generator's ``num_classes`` must be 2.
    """

    def __init__(self, ignore_index: int = 255, **kwargs) -> None:
        super().__init__(**kwargs)
        if self.decode_head.num_classes != 2:
            raise ValueError(
                'OracleMaskSegmentor decodes figure and ground: set '
                'decode_head.num_classes=2, got '
                f'{self.decode_head.num_classes}')
        if self.sub_mask_head is not None:
            raise ValueError('OracleMaskSegmentor has one mask level: remove '
                             'sub_mask_head')
        self.ignore_index = ignore_index

    def oracle_masks(self, data_samples: SampleList,
                     size: Sequence[int]) -> Tensor:
        """One-hot figure/ground masks of the samples' labels.

        Args:
            data_samples (list[SegDataSample]): Samples with
                ``gt_sem_seg`` (1, H, W).
            size (Sequence[int]): The images' (H, W) after preprocessing.

        Returns:
            Tensor: Masks (B, 2, H, W), float; region 1 is the figure.

        Raises:
            ValueError: If a sample has no label map, or its map is not
                ``size`` (the images' size after preprocessing).
        """
        maps = []
        for i, sample in enumerate(data_samples):
            if 'gt_sem_seg' not in sample:
                raise ValueError(
                    f'OracleMaskSegmentor: training sample {i} has no '
                    'gt_sem_seg; load the masks in the train pipeline '
                    '(LoadAnnotations before Resize, with_masks=True)')
            gt = sample.gt_sem_seg.data[0]
            if tuple(gt.shape) != tuple(size):
                raise ValueError(
                    f'OracleMaskSegmentor: label map {tuple(gt.shape)} of '
                    f'sample {i} is not the image size {tuple(size)}')
            maps.append((gt > 0) & (gt != self.ignore_index))
        fg = torch.stack(maps).long()
        return F.one_hot(fg, 2).permute(0, 3, 1, 2).float()

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """The denoising loss with the labels' regions as the masks.

        Args:
            inputs (Tensor): Preprocessed images (B, C, H, W).
            data_samples (list[SegDataSample]): Their samples, with
                ``gt_sem_seg``.

        Returns:
            dict: The denoising loss (key ``loss_denoise.loss_name``).
        """
        masks = self.oracle_masks(data_samples, inputs.shape[-2:])
        labels = self._cond_labels(data_samples, inputs.device)
        t = self.scheduler.sample_timesteps(inputs.shape[0], inputs.device)
        noise = torch.randn_like(inputs)
        x_t = self.scheduler.add_noise(inputs, noise, t)
        feats = self.extract_feat(x_t, t, labels)
        eps_hat = self.decoder(feats, masks.to(inputs))
        return {self.loss_denoise.loss_name: self.loss_denoise(eps_hat, noise)}
