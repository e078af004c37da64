# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import List, Optional, Sequence

import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from torch import Tensor

from mmfactdiff.registry import MODELS
from ..layers import UNetDecoderTrunk
from ..utils import group_norm, sample_masks


@MODELS.register_module()
class MaskGeneratorHead(BaseDecodeHead):
    """Mask generator: the second half of a U-Net that predicts K regions.

    It reads the bottleneck ``h_mid`` and ALL encoder skips, unmasked, runs
    U-Net output blocks over them (:class:`UNetDecoderTrunk`) and predicts
    ``num_classes`` = K logits per pixel. ``masks()`` turns logits into
    masks that sum to one over K. As a ``BaseDecodeHead`` it is a drop-in
    mmseg decode head: with labels it trains with ``loss_decode`` as any
    other head, on the :class:`DiffusionUNetEncoder` or any backbone whose
    features are listed in ``in_channels`` / ``in_strides``.

    Inputs are the backbone's tuple; the last entry is the bottleneck and
    the others are skips (shallow first). If the tuple carries a timestep
    embedding (``inputs.emb``, see :class:`UNetFeatures`) and
    ``emb_channels`` is set, every residual block is conditioned on it.

    Args:
        in_channels (Sequence[int]): Widths of all input features, skips
            first, bottleneck last. :class:`FactorizedDiffusionSegmentor`
            fills it from its backbone when None. Defaults to None.
        in_strides (Sequence[int]): Their strides. Filled likewise.
            Defaults to None.
        channels (int): Base width of the output blocks.
        channel_mults (Sequence[int]): Width multiplier per level (level 0
            is the finest skip's stride). Defaults to (1, 2, 2, 2).
        attention_strides (Sequence[int]): Strides with self-attention.
            Defaults to () (none; the ADM configs state theirs).
        emb_channels (int, optional): Timestep embedding width; None for a
            head without timestep conditioning. Defaults to None.
        num_heads (int): Attention heads. Defaults to 4.
        num_head_channels (int): Width per head (-1: use ``num_heads``).
            Defaults to -1.
        block_dropout (float): Dropout inside residual blocks.
            Defaults to 0.
        use_scale_shift_norm (bool): ADM scale-shift conditioning.
            Defaults to True.
        conv_resample (bool): Learned conv after upsampling.
            Defaults to True.
        num_groups (int): GroupNorm groups. Defaults to 32.
        mask_sampling (str): How training turns logits into masks:
            ``'soft'`` (softmax, the paper) or ``'gumbel'``
            (straight-through hard one-hot, softmax gradient).
            Evaluation always uses softmax. Defaults to 'soft'.
        tau (float): Gumbel-softmax temperature; a hook may schedule it.
            Defaults to 1.
        gumbel_noise_stride (int): Block size of the Gumbel noise in the
            Gumbel modes (1: per pixel; s > 1: one draw per s x s block,
            giving spatially coherent hard masks; not in the paper).
            Defaults to 1.
        emb_act (bool): SiLU before each residual block's embedding
            projection (ADM). Defaults to True.
        zero_init_residual (bool): Zero-initialise the last conv of every
            residual block (ADM). Defaults to True.
        block_width (str): Output block widths: ``'level'`` (ADM: by the
            skip's level and ``channel_mults``) or ``'skip'`` (as wide as
            the skip each block consumes). Defaults to 'level'.
        seg_kernel_size (int): Kernel size of the final conv that predicts
            the K logits: 1 (mmseg's ``conv_seg``) or 3 (built like the
            decoder's output conv). Its initialisation follows
            ``init_cfg`` (mmseg's default: normal, std 0.01; ``None`` keeps
            PyTorch's). Defaults to 1.
        with_cp (bool): Gradient checkpointing. Defaults to False.
        **kwargs: ``BaseDecodeHead`` arguments: ``num_classes`` (= K,
            required), ``loss_decode``, ``align_corners``, ``init_cfg``...
            ``dropout_ratio`` defaults to 0 here.
    """

    def __init__(self,
                 in_channels: Optional[Sequence[int]] = None,
                 in_strides: Optional[Sequence[int]] = None,
                 channels: int = 128,
                 channel_mults: Sequence[int] = (1, 2, 2, 2),
                 attention_strides: Sequence[int] = (),
                 emb_channels: Optional[int] = None,
                 num_heads: int = 4,
                 num_head_channels: int = -1,
                 block_dropout: float = 0.,
                 use_scale_shift_norm: bool = True,
                 conv_resample: bool = True,
                 num_groups: int = 32,
                 mask_sampling: str = 'soft',
                 tau: float = 1.0,
                 gumbel_noise_stride: int = 1,
                 emb_act: bool = True,
                 zero_init_residual: bool = True,
                 block_width: str = 'level',
                 seg_kernel_size: int = 1,
                 with_cp: bool = False,
                 **kwargs) -> None:
        if in_channels is None or in_strides is None:
            raise ValueError(
                'MaskGeneratorHead needs in_channels and in_strides (the '
                'widths and strides of the backbone features, bottleneck '
                'last); FactorizedDiffusionSegmentor fills them in from its '
                'backbone')
        if len(in_channels) != len(in_strides) or len(in_channels) < 2:
            raise ValueError(
                'in_channels and in_strides must have the same length >= 2 '
                f'(skips + bottleneck), got {list(in_channels)} and '
                f'{list(in_strides)}')
        kwargs.setdefault('dropout_ratio', 0.)
        super().__init__(
            in_channels=list(in_channels),
            channels=channels,
            input_transform='multiple_select',
            in_index=list(range(len(in_channels))),
            **kwargs)
        # Validates the mode early, with the same message as at run time.
        sample_masks(self.conv_seg.weight.new_zeros(1, 1, 1, 1), mask_sampling)
        self.mask_sampling = mask_sampling
        self.tau = tau
        self.gumbel_noise_stride = gumbel_noise_stride
        self.emb_channels = emb_channels
        self.trunk = UNetDecoderTrunk(
            skip_channels=in_channels[:-1],
            skip_strides=in_strides[:-1],
            mid_channels=in_channels[-1],
            mid_stride=in_strides[-1],
            base_channels=channels,
            channel_mults=channel_mults,
            attention_strides=attention_strides,
            emb_channels=emb_channels,
            num_heads=num_heads,
            num_head_channels=num_head_channels,
            dropout=block_dropout,
            use_scale_shift_norm=use_scale_shift_norm,
            conv_resample=conv_resample,
            num_groups=num_groups,
            emb_act=emb_act,
            zero_init_residual=zero_init_residual,
            block_width=block_width,
            with_cp=with_cp)
        if seg_kernel_size not in (1, 3):
            raise ValueError(
                f'seg_kernel_size must be 1 or 3, got {seg_kernel_size!r}')
        self.out_norm = nn.Sequential(
            group_norm(self.trunk.out_channels, num_groups), nn.SiLU())
        self.conv_seg = nn.Conv2d(
            self.trunk.out_channels,
            self.out_channels,
            seg_kernel_size,
            padding=seg_kernel_size // 2)

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        """Region logits (B, K, h, w) at the finest skip's resolution."""
        emb = getattr(inputs, 'emb', None)
        if self.emb_channels and emb is None:
            raise ValueError(
                'MaskGeneratorHead was built with emb_channels='
                f'{self.emb_channels} but its inputs carry no timestep '
                'embedding: use DiffusionUNetEncoder, or set emb_channels=None'
                ' for backbones without one')
        feats: List[Tensor] = self._transform_inputs(inputs)
        h = self.trunk(feats[:-1], feats[-1],
                       emb if self.emb_channels else None)
        return self.cls_seg(self.out_norm(h))

    def masks(self, logits: Tensor) -> Tensor:
        """Masks (B, K, h, w) summing to one over K, per ``mask_sampling``
        in training mode and softmax otherwise."""
        return sample_masks(logits, self.mask_sampling, self.tau,
                            self.training, self.gumbel_noise_stride)
