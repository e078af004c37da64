# Copyright (c) mmfactdiff contributors. All rights reserved.
import torch.nn as nn

from mmfactdiff.models import Downsample, TimestepResBlock, Upsample

RESAMPLE_MODES = ('down', 'up')


class ADMResampleResBlock(TimestepResBlock):
    """guided-diffusion's residual block that also halves or doubles the
    resolution (``ResBlock(down=True)`` / ``ResBlock(up=True)``, used when a
    model is trained with ``resblock_updown``).

    ADM resamples inside the block: after the first norm and activation
    and before the first conv, and the shortcut resamples its input too:
    ``h = conv(resample(act(norm(x))))``, ``out = skip(resample(x)) +
    out_layers(h)``. A :class:`TimestepResBlock` followed by a resampling
    layer computes something else, so checkpoints trained with
    ``resblock_updown`` need this block. It is a :class:`TimestepResBlock`
    whose ``in_layers`` and ``skip`` carry the (parameter-free) resampling
    step: ``in_layers = (norm, SiLU, resample, conv)``, ``skip = (resample,
    skip)``.

    Args:
        in_channels (int): Input width.
        out_channels (int): Output width.
        emb_channels (int, optional): Embedding width. Defaults to None.
        mode (str): ``'down'`` (2x2 average pooling) or ``'up'`` (nearest
            2x upsampling), as ADM's resampling residual blocks.
            Defaults to 'down'.
        **kwargs: Other :class:`TimestepResBlock` arguments (``dropout``,
            ``use_scale_shift_norm``, ``num_groups``, ...).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 emb_channels: int = None,
                 mode: str = 'down',
                 **kwargs) -> None:
        if mode not in RESAMPLE_MODES:
            raise ValueError(
                f'mode must be one of {RESAMPLE_MODES}, got {mode!r}')
        super().__init__(in_channels, out_channels, emb_channels, **kwargs)
        self.mode = mode

        def resample() -> nn.Module:
            if mode == 'down':
                return Downsample(in_channels, use_conv=False)
            return Upsample(in_channels, 2, use_conv=False)

        norm, act, conv = self.in_layers
        self.in_layers = nn.Sequential(norm, act, resample(), conv)
        self.skip = nn.Sequential(resample(), self.skip)
