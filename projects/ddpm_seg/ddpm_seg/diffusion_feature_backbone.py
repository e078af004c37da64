# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmseg.utils import ConfigType, OptConfigType
from torch import Tensor

from mmfactdiff.apis import load_weights
from mmfactdiff.models import FactorizedDiffusionSegmentor
from mmfactdiff.registry import DIFFUSION_SCHEDULERS, MODELS
from .adm_checkpoint import load_adm_checkpoint
from .adm_unet import ADMUNet

UPSAMPLE_MODES = ('bilinear', 'bicubic', 'nearest', 'area')
SizeType = Union[int, Sequence[int]]


def _pair(size: SizeType, name: str) -> Tuple[int, int]:
    if isinstance(size, int):
        size = (size, size)
    size = tuple(int(s) for s in size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f'DiffusionFeatureBackbone: {name} must be an int '
                         f'or an (h, w) pair of positive ints, got {size!r}')
    return size


@MODELS.register_module()
class DiffusionFeatureBackbone(BaseModule):
    """DDPM-seg's pixel features (Baranchuk et al., ICLR 2022) from a
    frozen diffusion U-Net.

    For every timestep ``t`` of ``steps`` the images are noised to ``t``
    with ONE fixed noise draw (a buffer drawn from ``noise_seed``, shared
    by all images and steps, so an image's features depend neither on its
    batch nor on the run), the U-Net runs, and the outputs of its decoder's
    output blocks ``blocks`` are read by forward hooks, upsampled to a
    common size and concatenated, steps outer, blocks inner:
    ``len(steps) * sum(widths of blocks)`` channels (:attr:`out_channels`).
    The forward returns a one-element tuple (mmseg's backbone contract).

    The U-Net is frozen: no parameter takes gradients, it stays in eval
    mode whatever ``train()`` is called with, and it runs without autograd.
    Features are computed for the batch at hand only; nothing is kept
    between batches.

    Two U-Nets are supported, each loaded from a local file by
    :meth:`init_weights` (the runner calls it before training; at test
    time the trained checkpoint holds the U-Net's weights):

    - this package's plain U-Net: a :class:`FactorizedDiffusionSegmentor`
      with ONE region (``decode_head.num_classes=1``: its mask is 1
      everywhere, the decoder sees unmasked skips), ``checkpoint`` being
      a ``tools/train.py`` checkpoint of it. Output block ``i`` is the
      ``i``-th block of its decoder trunk, with the upsampling that
      follows it (as ADM's blocks end with theirs); its own scheduler
      noises the images;
    - guided-diffusion's U-Net: an :class:`ADMUNet`, ``checkpoint`` being
      a ``.pt`` file with ADM's key names; the images are noised by
      ``scheduler`` (ADM's linear schedule, T = 1000, by default).

    Args:
        unet (dict): Config of the wrapped U-Net (a registered
            :class:`FactorizedDiffusionSegmentor` with K = 1, or
            :class:`ADMUNet`).
        img_size (int | Sequence[int]): Input size (h, w); the fixed
            noise has this size and inputs must have it.
        blocks (Sequence[int]): Indices of the decoder's output blocks to
            read. Defaults to (5, 6, 7, 8, 12), DDPM-seg's choice for
            ADM's 18 output blocks at 256x256.
        steps (Sequence[int]): Timesteps. Defaults to (50, 150, 250),
            DDPM-seg's choice for T = 1000.
        checkpoint (str, optional): Local file with the U-Net's trained
            weights (see above), loaded by :meth:`init_weights` through
            mmfactdiff's safe loader. Defaults to None.
        weights (str): Which copy of a ``tools/train.py`` checkpoint of the
            plain U-Net to load: ``'ema'`` or ``'raw'``
            (:func:`mmfactdiff.apis.load_weights`). Defaults to 'ema'.
        allow_random_weights (bool): Let :meth:`init_weights` run without
            a ``checkpoint`` (features of an untrained U-Net: for memory
            and speed measurements and tests only). Defaults to False.
        scheduler (dict, optional): Noise scheduler config for an
            :class:`ADMUNet`; None is a linear DDPM schedule with
            T = 1000. The plain U-Net uses its own (leave this None).
            Defaults to None.
        noise_seed (int): Seed of the fixed noise. Defaults to 0.
        feature_size (int | Sequence[int], optional): Size the block
            outputs are upsampled to; None is the input size (DDPM-seg).
            Defaults to None.
        upsample_mode (str): Interpolation of the block outputs, one of
            ``UPSAMPLE_MODES``. Defaults to 'bilinear' (DDPM-seg).
        init_cfg (dict, optional): Initialisation config of this module;
            the U-Net's weights come from ``checkpoint``. Defaults to None.
    """

    def __init__(self,
                 unet: ConfigType,
                 img_size: SizeType,
                 blocks: Sequence[int] = (5, 6, 7, 8, 12),
                 steps: Sequence[int] = (50, 150, 250),
                 checkpoint: Optional[str] = None,
                 weights: str = 'ema',
                 allow_random_weights: bool = False,
                 scheduler: OptConfigType = None,
                 noise_seed: int = 0,
                 feature_size: Optional[SizeType] = None,
                 upsample_mode: str = 'bilinear',
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if upsample_mode not in UPSAMPLE_MODES:
            raise ValueError(f'DiffusionFeatureBackbone: upsample_mode must '
                             f'be one of {UPSAMPLE_MODES}, got '
                             f'{upsample_mode!r}')
        self.unet = MODELS.build(unet) if isinstance(unet, dict) else unet
        if isinstance(self.unet, FactorizedDiffusionSegmentor):
            self._check_plain_unet(self.unet)
            if scheduler is not None:
                raise ValueError(
                    'DiffusionFeatureBackbone: the plain U-Net noises the '
                    'images with its own scheduler (the one it was trained '
                    'with): remove backbone.scheduler')
            self.scheduler = self.unet.scheduler
            in_channels = self.unet.backbone.in_channels
            trunk = self.unet.decoder.decoders[0]['trunk']
            widths = [block[0].out_norm.num_channels for block in trunk.blocks]
        elif isinstance(self.unet, ADMUNet):
            if self.unet.num_classes is not None:
                raise ValueError(
                    'DiffusionFeatureBackbone reads unconditional U-Nets: '
                    'the ADMUNet has num_classes='
                    f'{self.unet.num_classes}; set unet.num_classes=None '
                    'and use an unconditional checkpoint')
            self.scheduler = DIFFUSION_SCHEDULERS.build(
                scheduler or dict(
                    type='DDPMNoiseScheduler',
                    num_train_timesteps=1000,
                    beta_schedule='linear'))
            in_channels = self.unet.in_channels
            widths = list(self.unet.output_block_channels)
        else:
            raise TypeError(
                'DiffusionFeatureBackbone: unet must build a '
                'FactorizedDiffusionSegmentor (K = 1) or an ADMUNet, got '
                f'{type(self.unet).__name__}')
        self.blocks = self._check_indices(blocks, len(widths), 'blocks',
                                          'output blocks')
        self.steps = self._check_indices(steps, len(self.scheduler), 'steps',
                                         'timesteps')
        #: width of every output block of the wrapped U-Net
        self.block_channels = widths
        self.out_channels = len(self.steps) * sum(widths[b]
                                                  for b in self.blocks)
        self.img_size = _pair(img_size, 'img_size')
        self.feature_size = (None if feature_size is None else _pair(
            feature_size, 'feature_size'))
        self.upsample_mode = upsample_mode
        self.checkpoint = checkpoint
        self.weights = weights
        self.allow_random_weights = allow_random_weights
        gen = torch.Generator().manual_seed(int(noise_seed))
        self.register_buffer(
            'noise', torch.randn((in_channels, *self.img_size), generator=gen))
        self.unet.requires_grad_(False)
        self.unet.eval()

    @staticmethod
    def _check_plain_unet(unet: FactorizedDiffusionSegmentor) -> None:
        """Refuse factorized models that are not a plain U-Net."""
        if (unet.decode_head.out_channels != 1
                or unet.sub_mask_head is not None):
            raise ValueError(
                'DiffusionFeatureBackbone reads a plain U-Net: the wrapped '
                'FactorizedDiffusionSegmentor must have ONE region, '
                'unet.decode_head.num_classes=1 and no sub_mask_head (got '
                f'K = {unet.out_channels})')
        trunk = unet.decoder.decoders[0]['trunk']
        if not unet.decoder.share_weights or trunk.extra_in_channels:
            raise ValueError(
                'DiffusionFeatureBackbone: the plain U-Net\'s decoder must '
                'be one shared trunk without extra inputs '
                '(ParallelUNetDecoder or MaskedFeaturesUNetDecoder, '
                f'share_weights=True), got {type(unet.decoder).__name__}')
        if unet.cond_label_key is not None or unet.backbone.num_classes:
            raise ValueError(
                'DiffusionFeatureBackbone reads unconditional U-Nets: set '
                'unet.cond_label_key=None and unet.backbone.num_classes=None')

    @staticmethod
    def _check_indices(values: Sequence[int], size: int, name: str,
                       what: str) -> List[int]:
        values = [int(v) for v in values]
        bad = [v for v in values if not 0 <= v < size]
        if not values or bad or len(set(values)) != len(values):
            raise ValueError(
                f'DiffusionFeatureBackbone: {name} must be distinct indices '
                f'in [0, {size}) (the U-Net has {size} {what}), got {values}')
        return values

    def train(self, mode: bool = True) -> 'DiffusionFeatureBackbone':
        """Set the training mode; the frozen U-Net stays in eval mode."""
        super().train(mode)
        self.unet.eval()
        return self

    def init_weights(self) -> None:
        """Load the U-Net's weights from ``checkpoint``.

        Raises:
            ValueError: No ``checkpoint`` and ``allow_random_weights`` is
                False.
        """
        super().init_weights()
        if self.checkpoint is None:
            if not self.allow_random_weights:
                raise ValueError(
                    'DiffusionFeatureBackbone: no checkpoint for the frozen '
                    'U-Net: set model.backbone.checkpoint=PATH (a '
                    'tools/train.py checkpoint of the plain U-Net, or a '
                    'guided-diffusion .pt for an ADMUNet); '
                    'allow_random_weights=True reads an untrained U-Net '
                    '(measurements only)')
            print_log(
                'DiffusionFeatureBackbone: no checkpoint, the features are '
                'those of an untrained U-Net',
                logger='current',
                level=30)
            return
        if isinstance(self.unet, ADMUNet):
            load_adm_checkpoint(self.unet, self.checkpoint)
        else:
            load_weights(
                self.unet, self.checkpoint, weights=self.weights, strict=True)
        self.unet.requires_grad_(False)

    def _taps(self) -> List[nn.Module]:
        """The module whose output is output block ``i``, for every ``i``."""
        if isinstance(self.unet, ADMUNet):
            return list(self.unet.output_blocks)
        trunk = self.unet.decoder.decoders[0]['trunk']
        n = len(trunk.blocks)
        # the trunk upsamples before the next block; ADM's blocks end with
        # their upsampling, so block i is read after upsamples[i + 1]
        return [
            trunk.upsamples[i + 1] if i + 1 < n else trunk.blocks[i]
            for i in range(n)
        ]

    def _run_unet(self, x_t: Tensor, t: int) -> None:
        """Run the U-Net as far as the deepest block read."""
        if isinstance(self.unet, ADMUNet):
            self.unet(x_t, t, num_output_blocks=max(self.blocks) + 1)
            return
        feats = self.unet.extract_feat(x_t, t)
        decoder = self.unet.decoder
        emb = feats.emb if decoder.emb_channels else None
        decoder.decoders[0]['trunk'](list(feats[:-1]), feats[-1], emb)

    def forward(self, inputs: Tensor) -> Tuple[Tensor]:
        """Pixel features of ``inputs`` (B, C, H, W) in [-1, 1].

        Returns:
            tuple[Tensor]: ``(features,)``, features of shape
            (B, :attr:`out_channels`, *size), size being ``feature_size``
            or the input size.
        """
        if tuple(inputs.shape[1:]) != tuple(self.noise.shape):
            raise ValueError(
                f'DiffusionFeatureBackbone: inputs of shape '
                f'{tuple(inputs.shape[1:])}, but the fixed noise is '
                f'{tuple(self.noise.shape)} (in_channels, *img_size): resize '
                'the images to img_size (data_preprocessor size) or set '
                'backbone.img_size')
        size = self.feature_size or tuple(inputs.shape[-2:])
        out = inputs.new_empty((inputs.shape[0], self.out_channels, *size))
        taps = self._taps()
        captured: Dict[int, Tensor] = {}

        def reader(index: int):

            def hook(module, args, output):
                captured[index] = output

            return hook

        handles = [
            taps[b].register_forward_hook(reader(b)) for b in self.blocks
        ]
        align = False if self.upsample_mode in ('bilinear', 'bicubic') \
            else None
        noise = self.noise.to(inputs.dtype).expand_as(inputs)
        try:
            with torch.no_grad():
                start = 0
                for t in self.steps:
                    captured.clear()
                    x_t = self.scheduler.add_noise(inputs, noise, t)
                    self._run_unet(x_t, t)
                    for b in self.blocks:
                        feat = F.interpolate(
                            captured.pop(b).to(out.dtype),
                            size=size,
                            mode=self.upsample_mode,
                            align_corners=align)
                        out[:, start:start + feat.shape[1]] = feat
                        start += feat.shape[1]
        finally:
            for handle in handles:
                handle.remove()
        return (out, )
