# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmfactdiff.models import (DiffusionUNetEncoder, Downsample,
                               SpatialSelfAttention, TimestepResBlock,
                               TimestepSequential, Upsample, group_norm)
from mmfactdiff.registry import MODELS
from .adm_resample_res_block import ADMResampleResBlock

#: guided-diffusion's channel multipliers by image size (``create_model``)
DEFAULT_CHANNEL_MULT = {
    256: (1, 1, 2, 2, 4, 4),
    128: (1, 1, 2, 3, 4),
    64: (1, 2, 3, 4),
    32: (1, 2, 2, 2),
}
#: ADM's GroupNorm32 keeps PyTorch's default epsilon
ADM_GROUP_NORM_EPS = 1e-5


@MODELS.register_module()
class ADMUNet(BaseModule):
    """The U-Net of guided-diffusion (ADM, Dhariwal & Nichol 2021), built
    from mmfactdiff's layers, to load its released weights.

    The input half and the middle block are mmfactdiff's
    :class:`DiffusionUNetEncoder` (ADM's layout); the output half is built
    here, block for block as ADM's ``output_blocks`` (each block ends with
    its upsampling step, so a forward hook on ``output_blocks[i]`` sees
    what DDPM-seg's hooks see), and ``out`` is ADM's output layer. With
    ``resblock_updown`` the resampling blocks are
    :class:`ADMResampleResBlock` (ADM resamples inside the residual block).
    GroupNorm uses ADM's epsilon (1e-5).

    The arguments are guided-diffusion's command-line flags
    (``MODEL_FLAGS``: ``--num_channels`` is ``model_channels``,
    ``--learn_sigma True`` is ``out_channels=6``), so a released model's
    flags translate one to one. Weights in ADM's key names (``.pt`` files)
    load with :func:`load_adm_checkpoint` (through the package's safe
    loader), or through :class:`DiffusionFeatureBackbone`'s
    ``checkpoint``.

    Args:
        image_size (int): Training resolution; sets the default
            ``channel_mult`` and turns ``attention_resolutions`` into
            downsampling rates. Defaults to 64.
        in_channels (int): Image channels. Defaults to 3.
        model_channels (int): Base width (``--num_channels``).
            Defaults to 128.
        out_channels (int): Output channels: 3, or 6 for models trained
            with ``--learn_sigma True``. Defaults to 3.
        num_res_blocks (int): Residual blocks per level. Defaults to 2.
        attention_resolutions (Sequence[int]): Feature-map sizes (pixels)
            with self-attention, as the ``--attention_resolutions`` flag.
            Defaults to (16, 8).
        dropout (float): Dropout in residual blocks (inactive in eval
            mode). Defaults to 0.
        channel_mult (Sequence[int], optional): Width multiplier per level;
            None takes guided-diffusion's default for ``image_size``.
            Integers only (ADM-512's 0.5 is not supported). Defaults to
            None.
        conv_resample (bool): Learned convs in the resampling layers (when
            not ``resblock_updown``). Defaults to True.
        num_classes (int, optional): Class-conditional model (a learned
            class embedding, ``label_emb``). Defaults to None.
        num_heads (int): Attention heads. Defaults to 4.
        num_head_channels (int): Width per head; -1 uses ``num_heads``.
            Defaults to -1.
        num_heads_upsample (int): Heads in the output half; -1 uses
            ``num_heads``. Defaults to -1.
        use_scale_shift_norm (bool): Scale-shift conditioning.
            Defaults to True.
        resblock_updown (bool): Resample with residual blocks.
            Defaults to False.
        use_new_attention_order (bool): The checkpoint's attention splits
            q, k, v before the heads (``QKVAttention``); False (ADM's
            default, ``QKVAttentionLegacy``) splits heads first, and the
            loader reorders its qkv weights. Defaults to False.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 image_size: int = 64,
                 in_channels: int = 3,
                 model_channels: int = 128,
                 out_channels: int = 3,
                 num_res_blocks: int = 2,
                 attention_resolutions: Sequence[int] = (16, 8),
                 dropout: float = 0.,
                 channel_mult: Optional[Sequence[int]] = None,
                 conv_resample: bool = True,
                 num_classes: Optional[int] = None,
                 num_heads: int = 4,
                 num_head_channels: int = -1,
                 num_heads_upsample: int = -1,
                 use_scale_shift_norm: bool = True,
                 resblock_updown: bool = False,
                 use_new_attention_order: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if channel_mult is None:
            if image_size not in DEFAULT_CHANNEL_MULT:
                raise ValueError(
                    f'ADMUNet: no default channel_mult for image_size='
                    f'{image_size} (guided-diffusion has them for '
                    f'{sorted(DEFAULT_CHANNEL_MULT)}; 512 needs a '
                    'fractional multiplier, not supported): set '
                    'channel_mult')
            channel_mult = DEFAULT_CHANNEL_MULT[image_size]
        channel_mult = tuple(channel_mult)
        if any(not isinstance(m, int) or m < 1 for m in channel_mult):
            raise ValueError('ADMUNet: channel_mult must hold positive '
                             f'integers, got {list(channel_mult)}')
        rates = []
        for res in attention_resolutions:
            if image_size % int(res):
                raise ValueError(
                    f'ADMUNet: attention_resolutions entry {res} does not '
                    f'divide image_size={image_size}')
            rates.append(image_size // int(res))
        available = [2**level for level in range(len(channel_mult))]
        unused = sorted(set(rates) - set(available))
        if unused:
            raise ValueError(
                f'ADMUNet: attention_resolutions {list(attention_resolutions)}'
                f' ask for attention at downsampling rates {unused}, but '
                f'channel_mult={list(channel_mult)} only reaches '
                f'{available}: remove them or check image_size')
        self.image_size = image_size
        self.in_channels = in_channels
        self.model_channels = model_channels
        self.num_classes = num_classes
        self.channel_mult = channel_mult
        self.use_new_attention_order = use_new_attention_order
        emb_channels = 4 * model_channels
        self.encoder = DiffusionUNetEncoder(
            in_channels=in_channels,
            base_channels=model_channels,
            channel_mults=channel_mult,
            num_res_blocks=num_res_blocks,
            attention_strides=rates,
            mid_attention=True,
            num_mid_res_blocks=2,
            num_heads=num_heads,
            num_head_channels=num_head_channels,
            dropout=dropout,
            use_scale_shift_norm=use_scale_shift_norm,
            resblock_updown=False,
            conv_resample=conv_resample,
            num_classes=num_classes,
            embedding_channels=emb_channels,
            sinusoid_channels=model_channels,
            num_groups=32)

        def res(cin: int, cout: int, mode: Optional[str] = None):
            kwargs = dict(
                dropout=dropout,
                use_scale_shift_norm=use_scale_shift_norm,
                num_groups=32)
            if mode is None:
                return TimestepResBlock(cin, cout, emb_channels, **kwargs)
            return ADMResampleResBlock(cin, cout, emb_channels, mode, **kwargs)

        if resblock_updown:
            # ADM resamples inside the residual block
            for i, block in enumerate(self.encoder.input_blocks):
                if isinstance(block[0], Downsample):
                    ch = self.encoder.out_channels[i + 1]
                    self.encoder.input_blocks[i] = TimestepSequential(
                        res(ch, ch, 'down'))
        heads_up = num_heads if num_heads_upsample == -1 else \
            num_heads_upsample
        skip_channels = list(self.encoder.skip_channels)
        ch = self.encoder.out_channels[-1]
        rate = 2**(len(channel_mult) - 1)
        self.output_blocks = nn.ModuleList()
        #: output width of every output block (DDPM-seg's feature widths)
        self.output_block_channels: List[int] = []
        for level in reversed(range(len(channel_mult))):
            for i in range(num_res_blocks + 1):
                width = model_channels * channel_mult[level]
                layers = [res(ch + skip_channels.pop(), width)]
                ch = width
                if rate in rates:
                    layers.append(
                        SpatialSelfAttention(ch, heads_up, num_head_channels,
                                             32))
                if level and i == num_res_blocks:
                    layers.append(
                        res(ch, ch, 'up') if resblock_updown else Upsample(
                            ch, 2, use_conv=conv_resample))
                    rate //= 2
                self.output_blocks.append(TimestepSequential(*layers))
                self.output_block_channels.append(ch)
        self.out = nn.Sequential(
            group_norm(ch, 32), nn.SiLU(),
            nn.Conv2d(ch, out_channels, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)
        for module in self.modules():
            if isinstance(module, nn.GroupNorm):
                module.eps = ADM_GROUP_NORM_EPS

    def forward(self,
                x: Tensor,
                timesteps: Union[Tensor, int],
                labels: Optional[Tensor] = None,
                num_output_blocks: Optional[int] = None) -> Tensor:
        """ADM's forward.

        Args:
            x (Tensor): Noised images (B, C, H, W) in [-1, 1].
            timesteps (Tensor | int): Timesteps (B, ) or one for all.
            labels (Tensor, optional): Class labels (B, ) of a
                class-conditional model.
            num_output_blocks (int, optional): Run only the first this many
                output blocks and return the last one's output (feature
                extraction stops there). None runs the whole network.

        Returns:
            Tensor: The model's output (B, out_channels, H, W) (noise, and
            the variance channels of a ``learn_sigma`` model), or the
            features of output block ``num_output_blocks - 1``.
        """
        n = len(self.output_blocks)
        if num_output_blocks is not None and not 1 <= num_output_blocks <= n:
            raise ValueError(f'num_output_blocks must be in [1, {n}], got '
                             f'{num_output_blocks}')
        feats = self.encoder(x, timesteps, labels)
        skips, h = list(feats[:-1]), feats[-1]
        for block in self.output_blocks[:num_output_blocks or n]:
            h = block(torch.cat([h, skips.pop()], dim=1), feats.emb)
        return h if num_output_blocks is not None else self.out(h)
