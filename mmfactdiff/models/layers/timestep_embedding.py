# Copyright (c) mmfactdiff contributors. All rights reserved.
import math
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor


def sinusoidal_embedding(timesteps: Tensor,
                         dim: int,
                         max_period: float = 10000.) -> Tensor:
    """Sinusoidal embedding of (possibly fractional) timesteps.

    The layout is ``[cos | sin]`` as in guided-diffusion and mmagic, so that
    weights converted from either keep their meaning.

    Args:
        timesteps (Tensor): Timesteps of shape (B, ).
        dim (int): Embedding width.
        max_period (float): Controls the lowest frequency.
            Defaults to 10000.

    Returns:
        Tensor: Embedding of shape (B, dim), float32.
    """
    half = dim // 2
    freqs = torch.exp(
        -math.log(max_period) *
        torch.arange(half, dtype=torch.float32, device=timesteps.device) /
        half)
    args = timesteps.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


class TimestepEmbedding(nn.Module):
    """Timestep (and optional class) embedding: sinusoid then a 2-layer MLP.

    Args:
        base_channels (int): Width of the sinusoidal embedding.
        embedding_channels (int): Output width (4x ``base_channels`` in ADM).
        num_classes (int, optional): If given, a learned class embedding of
            the same width is added (the class-conditional model).
            Defaults to None.
    """

    def __init__(self,
                 base_channels: int,
                 embedding_channels: int,
                 num_classes: Optional[int] = None) -> None:
        super().__init__()
        self.base_channels = base_channels
        self.mlp = nn.Sequential(
            nn.Linear(base_channels, embedding_channels), nn.SiLU(),
            nn.Linear(embedding_channels, embedding_channels))
        self.num_classes = num_classes
        self.label_embedding = (
            nn.Embedding(num_classes, embedding_channels)
            if num_classes else None)

    def forward(self,
                timesteps: Tensor,
                labels: Optional[Tensor] = None) -> Tensor:
        """Embed timesteps (B, ) and optional labels (B, ) to (B, E)."""
        emb = self.mlp(sinusoidal_embedding(timesteps, self.base_channels))
        if self.label_embedding is not None:
            if labels is None:
                raise ValueError(
                    'this model is class-conditional (num_classes='
                    f'{self.num_classes}) but no class labels were given')
            emb = emb + self.label_embedding(labels)
        elif labels is not None:
            raise ValueError('class labels were given to an unconditional '
                             'model (num_classes=None)')
        return emb
