# Copyright (c) mmfactdiff contributors. All rights reserved.
import numpy as np
import torch
from scipy.cluster.vq import kmeans2
from torch import Tensor


def per_image_kmeans(feats: Tensor, k: int, seed: int = 0) -> Tensor:
    """Cluster the pixels of every image on its own.

    Each image's (H*W, C) pixel features are standardised per channel and
    clustered by k-means (k-means++ init, scipy), seeded with ``seed`` for
    every image, so an image's labels do not depend on its batch.

    Args:
        feats (Tensor): Features (B, C, H, W).
        k (int): Number of clusters.
        seed (int): Seed of the k-means++ initialisation. Defaults to 0.

    Returns:
        Tensor: Cluster ids (B, H, W), int64, on the device of ``feats``.
    """
    if k < 1:
        raise ValueError(f'k must be >= 1, got {k}')
    b, c, h, w = feats.shape
    out = []
    for f in feats.detach().float().cpu().numpy():
        x = f.reshape(c, -1).T.astype(np.float64)
        x = (x - x.mean(0)) / (x.std(0) + 1e-6)
        _, labels = kmeans2(x, k, minit='++', seed=seed)
        out.append(torch.from_numpy(labels.reshape(h, w).astype(np.int64)))
    return torch.stack(out).to(feats.device)
