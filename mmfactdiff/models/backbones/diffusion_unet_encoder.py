# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModule
from torch import Tensor

from mmfactdiff.registry import MODELS
from ..layers import (Downsample, SpatialSelfAttention, TimestepEmbedding,
                      TimestepResBlock, TimestepSequential)
from ..utils import UNetFeatures


@MODELS.register_module()
class DiffusionUNetEncoder(BaseModule):
    """Encoder half of an ADM (guided-diffusion) U-Net, plus the middle block.

    ``x_t, t (, y) -> (skip_1, ..., skip_L, h_mid)`` where the skips are the
    outputs of every input block (stem conv, residual blocks, downsamplers),
    exactly the tensors an ADM U-Net keeps for its output blocks, and
    ``h_mid`` is the output of the middle block (ResBlock, attention,
    ResBlock). The result is a :class:`UNetFeatures` tuple that also carries
    the timestep embedding (``.emb``) for the mask generator and decoder.

    It also works as a plain mmseg backbone: ``forward(inputs)`` without
    ``t`` uses ``default_timestep``, and stock mmseg heads can select any
    of the returned features with ``in_index``.

    Args:
        in_channels (int): Image channels. Defaults to 3.
        base_channels (int): Base width. Defaults to 128.
        channel_mults (Sequence[int]): Width multiplier per level; the
            number of levels is its length (``len - 1`` downsamplings).
            Defaults to (1, 2, 2, 2).
        num_res_blocks (int): Residual blocks per level. Defaults to 2.
        attention_strides (Sequence[int]): Downsampling factors (not
            resolutions; guided-diffusion's ``attention_resolutions`` after
            ``image_size // res``) at which residual blocks are followed by
            self-attention. Defaults to () (none; the ADM configs state
            theirs).
        mid_attention (bool): Self-attention in the middle block (ADM
            always has it). Defaults to True.
        num_mid_res_blocks (int): Residual blocks in the middle block: 2
            (ADM: ResBlock, attention, ResBlock) or 1 (ResBlock, then the
            attention if any). Defaults to 2.
        num_heads (int): Attention heads. Defaults to 4.
        num_head_channels (int): Width per head; -1 uses ``num_heads``.
            Defaults to -1.
        dropout (float): Dropout in residual blocks. Defaults to 0.
        use_scale_shift_norm (bool): ADM scale-shift conditioning.
            Defaults to True.
        resblock_updown (bool): Downsample with residual blocks instead of
            a strided conv. Defaults to False.
        conv_resample (bool): Strided conv (else average pooling) for
            downsampling. Defaults to True.
        num_classes (int, optional): Class-conditional model: a learned
            class embedding is added to the timestep embedding.
            Defaults to None.
        embedding_channels (int, optional): Embedding width; None means
            ``4 * base_channels``. Defaults to None.
        sinusoid_channels (int, optional): Width of the sinusoidal timestep
            features fed to the embedding MLP; None means ``base_channels``
            (ADM). Defaults to None.
        num_groups (int): GroupNorm groups. Defaults to 32.
        default_timestep (int): Timestep used when ``forward`` gets none
            (drop-in backbone use on clean images). Defaults to 0.
        emb_act (bool): SiLU before each residual block's embedding
            projection (ADM). False projects the embedding MLP's output as
            it is. Defaults to True.
        zero_init_residual (bool): Zero-initialise the last conv of every
            residual block (ADM). Defaults to True.
        with_cp (bool): Gradient checkpointing. Defaults to False.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 128,
                 channel_mults: Sequence[int] = (1, 2, 2, 2),
                 num_res_blocks: int = 2,
                 attention_strides: Sequence[int] = (),
                 mid_attention: bool = True,
                 num_mid_res_blocks: int = 2,
                 num_heads: int = 4,
                 num_head_channels: int = -1,
                 dropout: float = 0.,
                 use_scale_shift_norm: bool = True,
                 resblock_updown: bool = False,
                 conv_resample: bool = True,
                 num_classes: Optional[int] = None,
                 embedding_channels: Optional[int] = None,
                 sinusoid_channels: Optional[int] = None,
                 num_groups: int = 32,
                 default_timestep: int = 0,
                 emb_act: bool = True,
                 zero_init_residual: bool = True,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_mid_res_blocks not in (1, 2):
            raise ValueError('num_mid_res_blocks must be 1 or 2, got '
                             f'{num_mid_res_blocks!r}')
        self.in_channels = in_channels
        self.base_channels = base_channels
        self.channel_mults = tuple(channel_mults)
        self.num_classes = num_classes
        self.default_timestep = default_timestep
        self.embedding_channels = embedding_channels or 4 * base_channels
        self.time_embedding = TimestepEmbedding(
            sinusoid_channels or base_channels, self.embedding_channels,
            num_classes)

        def res(cin, cout):
            return TimestepResBlock(
                cin,
                cout,
                self.embedding_channels,
                dropout=dropout,
                use_scale_shift_norm=use_scale_shift_norm,
                num_groups=num_groups,
                emb_act=emb_act,
                zero_init=zero_init_residual,
                with_cp=with_cp)

        def attn(ch):
            return SpatialSelfAttention(
                ch, num_heads, num_head_channels, num_groups, with_cp=with_cp)

        ch = base_channels * self.channel_mults[0]
        self.stem = torch.nn.Conv2d(in_channels, ch, 3, padding=1)
        self.input_blocks = torch.nn.ModuleList()
        out_channels: List[int] = [ch]
        out_strides: List[int] = [1]
        stride = 1
        for level, mult in enumerate(self.channel_mults):
            for _ in range(num_res_blocks):
                layers = [res(ch, base_channels * mult)]
                ch = base_channels * mult
                if stride in attention_strides:
                    layers.append(attn(ch))
                self.input_blocks.append(TimestepSequential(*layers))
                out_channels.append(ch)
                out_strides.append(stride)
            if level != len(self.channel_mults) - 1:
                if resblock_updown:
                    down = TimestepSequential(
                        res(ch, ch), Downsample(ch, use_conv=False))
                else:
                    down = TimestepSequential(
                        Downsample(ch, use_conv=conv_resample))
                self.input_blocks.append(down)
                stride *= 2
                out_channels.append(ch)
                out_strides.append(stride)
        mid = [res(ch, ch)]
        if mid_attention:
            mid.append(attn(ch))
        if num_mid_res_blocks == 2:
            mid.append(res(ch, ch))
        self.middle_block = TimestepSequential(*mid)
        #: widths and strides of the returned tuple: skips, then h_mid
        self.out_channels = out_channels + [ch]
        self.out_strides = out_strides + [stride]
        unused = sorted(set(attention_strides) - set(out_strides))
        if unused:
            raise ValueError(
                f'DiffusionUNetEncoder: attention_strides {unused} are not '
                f'strides of this encoder (it has {sorted(set(out_strides))} '
                f'with channel_mults={list(self.channel_mults)}); remove '
                'them or add levels')

    @property
    def skip_channels(self) -> List[int]:
        """Widths of the skip features, shallow first."""
        return self.out_channels[:-1]

    @property
    def skip_strides(self) -> List[int]:
        """Strides of the skip features, shallow first."""
        return self.out_strides[:-1]

    def embed(self, t: Tensor, labels: Optional[Tensor] = None) -> Tensor:
        """Timestep (and class) embedding (B, E)."""
        return self.time_embedding(t, labels)

    def forward(self,
                x: Tensor,
                t: Optional[Union[Tensor, int]] = None,
                labels: Optional[Tensor] = None) -> UNetFeatures:
        """Encode ``x`` (B, C, H, W) at timesteps ``t`` (B, ) or a scalar.

        Returns:
            UNetFeatures: ``(skip_1, ..., skip_L, h_mid)`` with ``.emb``.
        """
        stride = self.out_strides[-1]
        if x.shape[-2] % stride or x.shape[-1] % stride:
            raise ValueError(
                f'image size {tuple(x.shape[-2:])} is not divisible by the '
                f"U-Net's stride {stride}: resize or pad the images to a "
                f'multiple of it (mmseg: data_preprocessor size or '
                f'size_divisor={stride})')
        if t is None:
            t = self.default_timestep
        if not torch.is_tensor(t) or t.dim() == 0:
            t = torch.full((x.shape[0], ), int(t), device=x.device)
        emb = self.embed(t, labels).to(x.dtype)
        h = self.stem(x)
        feats = [h]
        for block in self.input_blocks:
            h = block(h, emb)
            feats.append(h)
        feats.append(self.middle_block(h, emb))
        return UNetFeatures(feats, emb)
