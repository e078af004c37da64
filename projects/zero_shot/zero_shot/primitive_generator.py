# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Dict, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmfactdiff.registry import MODELS


class _NoisyDecoderLayer(nn.Module):
    """A post-norm transformer decoder layer that adds unit Gaussian noise
    after cross-attention (PADing's source of diversity: the same class
    embedding gives a different feature at every call)."""

    def __init__(self, dims: int, num_heads: int, ffn_dims: int,
                 dropout: float, noise: bool) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(
            dims, num_heads, dropout=dropout, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(
            dims, num_heads, dropout=dropout, batch_first=True)
        self.ffn = nn.Sequential(
            nn.Linear(dims, ffn_dims), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(ffn_dims, dims))
        self.norms = nn.ModuleList(nn.LayerNorm(dims) for _ in range(3))
        self.drops = nn.ModuleList(nn.Dropout(dropout) for _ in range(3))
        self.noise = noise

    def forward(self, x: Tensor, memory: Tensor) -> Tensor:
        x = self.norms[0](x + self.drops[0](self.self_attn(x, x, x)[0]))
        x = x + self.drops[1](self.cross_attn(x, memory, memory)[0])
        if self.noise:
            x = x + torch.randn_like(x)
        x = self.norms[1](x)
        return self.norms[2](x + self.drops[2](self.ffn(x)))


def _encoder(dims: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(dims, dims), nn.Linear(dims, dims),
        nn.LeakyReLU(0.2, inplace=True), nn.Dropout(dropout))


def _similarity_kl(pred: Tensor, target: Tensor) -> Tensor:
    """KL divergence between the row-wise softmaxes (temperature 0.1) of two
    matrices, summed and divided by the number of entries."""
    return F.kl_div(
        F.log_softmax(pred / 0.1, dim=1),
        F.log_softmax(target / 0.1, dim=1),
        reduction='sum',
        log_target=True) / pred.numel()


def _cosine(a: Tensor, b: Tensor) -> Tensor:
    return F.normalize(a, dim=1) @ F.normalize(b, dim=1).t()


@MODELS.register_module()
class PrimitiveGenerator(BaseModule):
    """PADing's primitive generator (He et al., CVPR 2023): fake query
    embeddings for any class from its class embedding.

    A class embedding is projected to the query width and, as a single
    token, attends over ``num_primitives`` learned primitive vectors
    through ``num_layers`` noisy transformer decoder layers (Gaussian noise
    after each cross-attention); the output is a fake query embedding of
    that class. :meth:`structure_loss` is PADing's semantic-structure
    regulariser: the generated features are split into a class-related and
    a class-unrelated part (two projections); the related part's cosine
    similarities follow those of the class embeddings (KL), a relation
    network must recognise its class among the classes asked for
    (cross-entropy), the unrelated part is pushed toward noise (KL) and
    both parts must reconstruct the feature (L1).

    Args:
        vector_dims (int): Width of the class embeddings.
        embed_dims (int): Width of the query embeddings to generate.
        num_primitives (int): Learned primitives. Defaults to 400.
        num_layers (int): Decoder layers. Defaults to 3.
        num_heads (int): Attention heads. Defaults to 8.
        ffn_dims (int): Feed-forward width. Defaults to 1024.
        dropout (float): Dropout of the decoder layers. Defaults to 0.3.
        noise (bool): Add unit Gaussian noise after cross-attention.
            Defaults to True.
        structure_dropout (float): Dropout of the structure-loss
            projections. Defaults to 0.2.
        structure_weights (Sequence[float]): Weights of the similarity and
            unrelated-noise KL terms, the relation cross-entropy and the
            reconstruction L1. Defaults to PADing's ``(1.0, 1.0, 0.5)``.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 vector_dims: int,
                 embed_dims: int,
                 num_primitives: int = 400,
                 num_layers: int = 3,
                 num_heads: int = 8,
                 ffn_dims: int = 1024,
                 dropout: float = 0.3,
                 noise: bool = True,
                 structure_dropout: float = 0.2,
                 structure_weights: Sequence[float] = (1.0, 1.0, 0.5),
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if embed_dims % num_heads:
            raise ValueError(
                f'PrimitiveGenerator: embed_dims ({embed_dims}) must be '
                f'divisible by num_heads ({num_heads})')
        if len(structure_weights) != 3:
            raise ValueError('PrimitiveGenerator: structure_weights takes '
                             '3 weights (KL terms, relation, reconstruction)'
                             f', got {structure_weights}')
        self.projection = nn.Linear(vector_dims, embed_dims)
        self.primitives = nn.Embedding(num_primitives, embed_dims)
        self.layers = nn.ModuleList(
            _NoisyDecoderLayer(embed_dims, num_heads, ffn_dims, dropout, noise)
            for _ in range(num_layers))
        self.norm = nn.LayerNorm(embed_dims)
        self.related = _encoder(embed_dims, structure_dropout)
        self.unrelated = _encoder(embed_dims, structure_dropout)
        self.relation = nn.Sequential(
            nn.Linear(2 * embed_dims, embed_dims), nn.ReLU(inplace=True),
            nn.Linear(embed_dims, 1), nn.Sigmoid())
        self.reconstruct = nn.Sequential(
            nn.Linear(2 * embed_dims, embed_dims),
            nn.LeakyReLU(0.2, inplace=True), nn.Dropout(structure_dropout),
            nn.Linear(embed_dims, embed_dims), nn.LeakyReLU(0.2, inplace=True),
            nn.Dropout(structure_dropout))
        self.structure_weights = tuple(structure_weights)

    def forward(self, vectors: Tensor) -> Tensor:
        """Fake query embeddings (N, embed_dims) for class embeddings
        (N, vector_dims), one draw each."""
        return self.generate(self.projection(vectors))

    def generate(self, projected: Tensor) -> Tensor:
        """Fake query embeddings from projected class embeddings (N, D)."""
        x = projected[:, None]
        memory = self.primitives.weight[None].expand(len(projected), -1, -1)
        for layer in self.layers:
            x = layer(x, memory)
        return self.norm(x)[:, 0]

    def _parts(self, fake: Tensor, projected: Tensor,
               targets: Tensor) -> Dict[str, Tensor]:
        related, unrelated = self.related(fake), self.unrelated(fake)
        n, c = len(related), len(projected)
        pairs = torch.cat([
            related[:, None].expand(n, c, -1), projected[None].expand(
                n, c, -1)
        ], -1)
        return dict(
            related=related,
            unrelated_kl=_similarity_kl(unrelated,
                                        torch.randn_like(unrelated)),
            relation=F.cross_entropy(self.relation(pairs).view(n, c), targets),
            rec=F.l1_loss(
                self.reconstruct(torch.cat([related, unrelated], -1)), fake))

    def structure_loss(self, fake_seen: Tensor, proj_all_seen: Tensor,
                       seen_targets: Tensor, fake_unseen: Tensor,
                       proj_unseen: Tensor) -> Tensor:
        """PADing's semantic-structure loss.

        Args:
            fake_seen (Tensor): Generated features (M, D) of seen classes.
            proj_all_seen (Tensor): Projected embeddings (S, D) of all seen
                classes.
            seen_targets (Tensor): Index (M, ) of each generated seen
                feature's class among the rows of ``proj_all_seen``.
            fake_unseen (Tensor): Generated features (U, D), one per row of
                ``proj_unseen``.
            proj_unseen (Tensor): Projected embeddings (U, D) of the unseen
                classes.

        Returns:
            Tensor: The weighted structure loss (a scalar).
        """
        proj_seen = proj_all_seen[seen_targets]
        seen = self._parts(fake_seen, proj_all_seen, seen_targets)
        unseen = self._parts(
            fake_unseen, proj_unseen,
            torch.arange(len(proj_unseen), device=proj_unseen.device))
        kl_sim = (_similarity_kl(
            _cosine(seen['related'], seen['related']),
            _cosine(proj_seen, proj_seen)) + _similarity_kl(
                _cosine(unseen['related'], unseen['related']),
                _cosine(proj_unseen, proj_unseen)) + _similarity_kl(
                    _cosine(seen['related'], unseen['related']),
                    _cosine(proj_seen, proj_unseen))) / 3
        unrelated = 0.5 * (seen['unrelated_kl'] + unseen['unrelated_kl']) / 2
        relation = 0.2 * (seen['relation'] + unseen['relation']) / 2
        rec = (seen['rec'] + unseen['rec']) / 2
        w_kl, w_rel, w_rec = self.structure_weights
        return w_kl * (kl_sim + unrelated) + w_rel * relation + w_rec * rec
