# Copyright (c) mmfactdiff contributors. All rights reserved.
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from torch import Tensor

from ..utils.norm import group_norm


class SpatialSelfAttention(nn.Module):
    """Multi-head self-attention over the pixels of a feature map (ADM).

    Norm, 1x1 qkv projection, scaled dot-product attention (PyTorch's fused
    kernel), zero-initialised output projection and a residual connection.

    Args:
        channels (int): Feature width.
        num_heads (int): Number of heads; ignored when
            ``num_head_channels`` > 0. Defaults to 4.
        num_head_channels (int): Width per head; -1 uses ``num_heads``.
            Defaults to -1.
        num_groups (int): GroupNorm groups. Defaults to 32.
        with_cp (bool): Gradient checkpointing. Defaults to False.
    """

    def __init__(self,
                 channels: int,
                 num_heads: int = 4,
                 num_head_channels: int = -1,
                 num_groups: int = 32,
                 with_cp: bool = False) -> None:
        super().__init__()
        if num_head_channels > 0:
            if channels % num_head_channels:
                raise ValueError(f'channels={channels} is not divisible by '
                                 f'num_head_channels={num_head_channels}')
            num_heads = channels // num_head_channels
        if channels % num_heads:
            raise ValueError(f'channels={channels} is not divisible by '
                             f'num_heads={num_heads}')
        self.num_heads = num_heads
        self.with_cp = with_cp
        self.norm = group_norm(channels, num_groups)
        self.qkv = nn.Conv1d(channels, 3 * channels, 1)
        self.proj = nn.Conv1d(channels, channels, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def _forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        qkv = self.qkv(self.norm(x).reshape(b, c, h * w))
        # (B, 3, heads, HW, C/heads) for scaled_dot_product_attention
        qkv = qkv.reshape(b, 3, self.num_heads, c // self.num_heads,
                          h * w).transpose(-1, -2)
        out = F.scaled_dot_product_attention(qkv[:, 0], qkv[:, 1], qkv[:, 2])
        out = out.transpose(-1, -2).reshape(b, c, h * w)
        return x + self.proj(out).reshape(b, c, h, w)

    def forward(self, x: Tensor, emb: Tensor = None) -> Tensor:
        """Attend over ``x`` (B, C, H, W); ``emb`` is accepted and unused."""
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._forward, x, use_reentrant=False)
        return self._forward(x)
