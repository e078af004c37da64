# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Optional

import torch.nn as nn
import torch.utils.checkpoint as cp
from torch import Tensor

from ..utils.norm import group_norm


class TimestepResBlock(nn.Module):
    """ADM residual block conditioned on a timestep embedding.

    ``h = conv(act(norm(x)))``; the embedding enters either as
    ``norm(h) * (1 + scale) + shift`` (scale-shift norm) or added to ``h``;
    then ``conv(dropout(act(.)))``. ADM zero-initialises that last conv, so
    the block starts as (a projection of) the identity.

    Args:
        in_channels (int): Input width.
        out_channels (int): Output width.
        emb_channels (int, optional): Embedding width. None or 0 builds a
            block without embedding input (used when the block sits on a
            backbone that gives no timestep embedding). Defaults to None.
        dropout (float): Dropout before the last conv. Defaults to 0.
        use_scale_shift_norm (bool): Condition by scale and shift (ADM)
            instead of by addition. Defaults to True.
        num_groups (int): GroupNorm groups (reduced to divide the width).
            Defaults to 32.
        emb_act (bool): SiLU before the embedding projection, as in ADM.
            False projects the embedding as it is (a plain linear map of
            the timestep MLP's output). Defaults to True.
        zero_init (bool): Zero-initialise the last conv (ADM). False keeps
            PyTorch's default initialisation. Defaults to True.
        with_cp (bool): Gradient checkpointing: recompute activations in
            the backward pass to save memory. Defaults to False.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 emb_channels: Optional[int] = None,
                 dropout: float = 0.,
                 use_scale_shift_norm: bool = True,
                 num_groups: int = 32,
                 emb_act: bool = True,
                 zero_init: bool = True,
                 with_cp: bool = False) -> None:
        super().__init__()
        self.use_scale_shift_norm = use_scale_shift_norm
        self.with_cp = with_cp
        self.in_layers = nn.Sequential(
            group_norm(in_channels, num_groups), nn.SiLU(),
            nn.Conv2d(in_channels, out_channels, 3, padding=1))
        self.emb_proj = None
        if emb_channels:
            proj = nn.Linear(emb_channels,
                             out_channels * (2 if use_scale_shift_norm else 1))
            self.emb_proj = (
                nn.Sequential(nn.SiLU(), proj)
                if emb_act else nn.Sequential(proj))
        self.out_norm = group_norm(out_channels, num_groups)
        self.out_layers = nn.Sequential(
            nn.SiLU(), nn.Dropout(dropout),
            nn.Conv2d(out_channels, out_channels, 3, padding=1))
        if zero_init:
            nn.init.zeros_(self.out_layers[-1].weight)
            nn.init.zeros_(self.out_layers[-1].bias)
        self.skip = (
            nn.Identity() if in_channels == out_channels else nn.Conv2d(
                in_channels, out_channels, 1))

    def _forward(self, x: Tensor, emb: Optional[Tensor]) -> Tensor:
        h = self.in_layers(x)
        if self.emb_proj is None:
            h = self.out_norm(h)
        else:
            if emb is None:
                raise ValueError('TimestepResBlock built with emb_channels '
                                 'needs an embedding')
            e = self.emb_proj(emb).to(h.dtype)[..., None, None]
            if self.use_scale_shift_norm:
                scale, shift = e.chunk(2, dim=1)
                h = self.out_norm(h) * (1 + scale) + shift
            else:
                h = self.out_norm(h + e)
        return self.skip(x) + self.out_layers(h)

    def forward(self, x: Tensor, emb: Optional[Tensor] = None) -> Tensor:
        """Apply the block to ``x`` (B, C, H, W) with embedding (B, E)."""
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._forward, x, emb, use_reentrant=False)
        return self._forward(x, emb)
