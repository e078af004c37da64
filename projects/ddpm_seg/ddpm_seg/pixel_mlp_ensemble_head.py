# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses import accuracy
from mmseg.utils import ConfigType, SampleList
from torch import Tensor

from mmfactdiff.registry import MODELS

PREDICT_MODES = ('vote', 'mean_prob')


@MODELS.register_module()
class PixelMLPEnsembleHead(BaseDecodeHead):
    """DDPM-seg's ensemble of pixel classifiers, as an mmseg decode head.

    ``num_members`` independent MLPs classify every pixel's feature
    vector; each is DDPM-seg's ``pixel_classifier``: ``dim -> 128 -> 32
    -> K`` with ReLU then BatchNorm after each hidden layer. They are 1x1
    convolutions and ``BatchNorm2d``, so they run on feature maps; the
    members' layers are fused into grouped convolutions (member ``m`` owns
    output group ``m`` of every layer: the members share no weight and no
    gradient, and the ensemble costs one pass).

    Training does not look at every pixel: :meth:`loss` draws
    ``num_train_pixels`` labelled pixels per image of the batch (pixels at
    ``ignore_index`` are never drawn), gathers their features and trains
    every member on them with ``loss_decode`` (cross-entropy; the members'
    losses are averaged, which Adam's updates do not notice). Features
    therefore exist only for the batch at hand: the original materialises
    them for the whole training set (about 210 GB for 50 images at
    256x256).

    Prediction (:meth:`forward`) runs every member on every pixel and
    combines them: ``'vote'`` returns the share of members voting for each
    class (its argmax is the majority vote, ties going to the lower class
    id), ``'mean_prob'`` the members' mean softmax.

    Args:
        num_members (int): Classifiers in the ensemble. Defaults to 10.
        hidden_channels (Sequence[int]): Hidden widths of each member.
            Defaults to (128, 32) (DDPM-seg's for fewer than 30 classes;
            it uses (256, 128) otherwise).
        num_train_pixels (int): Labelled pixels drawn per image in each
            training step (all of them when an image has fewer).
            Defaults to 1024.
        predict_mode (str): ``'vote'`` or ``'mean_prob'``.
            Defaults to 'vote'.
        init_cfg (dict | list[dict], optional): Initialisation; defaults to
            DDPM-seg's: normal weights (std 0.02), zero biases, on every
            conv.
        **kwargs: :class:`BaseDecodeHead` arguments: ``in_channels`` (the
            feature width; :class:`PixelClassifierSegmentor` fills it in
            from the backbone), ``num_classes``, ``loss_decode``,
            ``ignore_index``, ``align_corners``, ``in_index``,
            ``input_transform``. ``out_channels`` must equal
            ``num_classes`` (no sigmoid mode); ``channels``,
            ``dropout_ratio`` and the conv/norm settings are set here.
    """

    def __init__(self,
                 num_members: int = 10,
                 hidden_channels: Sequence[int] = (128, 32),
                 num_train_pixels: int = 1024,
                 predict_mode: str = 'vote',
                 init_cfg: ConfigType = dict(
                     type='Normal', layer='Conv2d', std=0.02, bias=0.),
                 **kwargs) -> None:
        for key in ('channels', 'dropout_ratio'):
            if key in kwargs:
                raise ValueError(
                    f'PixelMLPEnsembleHead sets {key} itself: remove '
                    f'decode_head.{key} (widths: hidden_channels)')
        num_classes = kwargs.get('num_classes')
        kwargs.setdefault('out_channels', num_classes)
        if kwargs['out_channels'] != num_classes:
            raise ValueError(
                'PixelMLPEnsembleHead predicts one score per class: set '
                f'decode_head.out_channels={num_classes} (= num_classes) or '
                f'remove it, got {kwargs["out_channels"]}')
        if predict_mode not in PREDICT_MODES:
            raise ValueError(f'PixelMLPEnsembleHead: predict_mode must be '
                             f'one of {PREDICT_MODES}, got {predict_mode!r}')
        for name, value in (('num_members', num_members), ('num_train_pixels',
                                                           num_train_pixels)):
            if int(value) < 1:
                raise ValueError(f'PixelMLPEnsembleHead: {name} must be >= '
                                 f'1, got {value}')
        hidden_channels = [int(c) for c in hidden_channels]
        if not hidden_channels or min(hidden_channels) < 1:
            raise ValueError('PixelMLPEnsembleHead: hidden_channels must be '
                             f'positive widths, got {hidden_channels}')
        super().__init__(
            channels=hidden_channels[-1],
            dropout_ratio=0.,
            init_cfg=init_cfg,
            **kwargs)
        # the members' layers replace the base class's classifier
        self.conv_seg = None
        self.num_members = int(num_members)
        self.hidden_channels = hidden_channels
        self.num_train_pixels = int(num_train_pixels)
        self.predict_mode = predict_mode
        m = self.num_members
        layers: List[nn.Module] = []
        width = self.in_channels
        for i, hidden in enumerate(hidden_channels):
            # the first layer reads the shared features; later ones read
            # each member's own hidden units (groups)
            layers += [
                nn.Conv2d(
                    width if i == 0 else width * m,
                    hidden * m,
                    1,
                    groups=1 if i == 0 else m),
                nn.ReLU(inplace=True),
                nn.BatchNorm2d(hidden * m)
            ]
            width = hidden
        layers.append(nn.Conv2d(width * m, self.out_channels * m, 1, groups=m))
        self.classifiers = nn.Sequential(*layers)

    def member_logits(self, feats: Tensor) -> Tensor:
        """Every member's logits (B, M, K, H, W) for features (B, C, H, W)."""
        return self.classifiers(feats).unflatten(
            1, (self.num_members, self.out_channels))

    def combine(self, logits: Tensor) -> Tensor:
        """The ensemble's class scores (B, K, H, W) from the members'
        logits (B, M, K, H, W): vote shares or mean probabilities."""
        if self.predict_mode == 'mean_prob':
            return logits.softmax(dim=2).mean(dim=1)
        votes = logits.argmax(dim=2)  # (B, M, H, W)
        shares = logits.new_zeros(logits.shape[:1] + logits.shape[2:])
        shares.scatter_add_(1, votes,
                            torch.ones_like(votes, dtype=shares.dtype))
        return shares / self.num_members

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        """Class scores (B, K, H, W) of every pixel (see ``predict_mode``)."""
        return self.combine(self.member_logits(self._transform_inputs(inputs)))

    def sample_pixels(self, feats: Tensor,
                      labels: Tensor) -> Tuple[Tensor, Tensor]:
        """Draw up to ``num_train_pixels`` labelled pixels per image.

        Args:
            feats (Tensor): Features (B, C, H, W).
            labels (Tensor): Labels (B, H, W); ``ignore_index`` pixels are
                never drawn.

        Returns:
            tuple[Tensor, Tensor]: The drawn pixels' features (N, C) and
            labels (N, ), images in batch order.
        """
        if feats.shape[-2:] != labels.shape[-2:]:
            raise ValueError(
                f'PixelMLPEnsembleHead: features {tuple(feats.shape[-2:])} '
                f'and labels {tuple(labels.shape[-2:])} differ in size: the '
                'backbone must give features at the label size '
                '(DiffusionFeatureBackbone: feature_size=None)')
        flat_feats, flat_labels = feats.flatten(2), labels.flatten(1)
        picked_feats, picked_labels = [], []
        for f, y in zip(flat_feats, flat_labels):
            valid = (y != self.ignore_index).nonzero()[:, 0]
            order = torch.randperm(valid.numel(), device=valid.device)
            idx = valid[order[:self.num_train_pixels]]
            picked_feats.append(f[:, idx].t())
            picked_labels.append(y[idx])
        return torch.cat(picked_feats), torch.cat(picked_labels).long()

    def loss(self, inputs: Sequence[Tensor], batch_data_samples: SampleList,
             train_cfg: ConfigType) -> dict:
        """Train every member on pixels drawn from the batch.

        Returns:
            dict: ``loss_decode``'s terms (mean over members) and
            ``acc_seg``, the ensemble's accuracy on the drawn pixels.
        """
        feats = self._transform_inputs(inputs)
        labels = self._stack_batch_gt(batch_data_samples)[:, 0]
        x, y = self.sample_pixels(feats, labels)
        if y.numel() < 2:
            raise ValueError(
                f'PixelMLPEnsembleHead: the batch has {y.numel()} labelled '
                f'pixel(s) (labels other than ignore_index='
                f'{self.ignore_index}); BatchNorm needs at least 2: check '
                'the labels')
        logits = self.member_logits(x[:, :, None, None])  # (N, M, K, 1, 1)
        target = y[:, None, None]
        losses = {}
        modules = (
            self.loss_decode if isinstance(self.loss_decode, nn.ModuleList)
            else [self.loss_decode])
        for loss_module in modules:
            value = sum(
                loss_module(
                    logits[:, m], target, ignore_index=self.ignore_index)
                for m in range(self.num_members)) / self.num_members
            name = loss_module.loss_name
            losses[name] = losses[name] + value if name in losses else value
        losses['acc_seg'] = accuracy(
            self.combine(logits.detach())[..., 0, 0], y)
        return losses
