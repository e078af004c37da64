# Copyright (c) mmfactdiff contributors. All rights reserved.
import numpy as np
import torch
from scipy.cluster.vq import kmeans2
from torch import Tensor


def per_image_kmeans(feats: Tensor,
                     k: int,
                     seed: int = 0,
                     n_init: int = 1) -> Tensor:
    """Cluster the pixels of every image on its own.

    Each image's (H*W, C) pixel features are standardised per channel and
    clustered by k-means (k-means++ init, scipy), seeded with ``seed`` for
    every image, so an image's labels do not depend on its batch. With
    ``n_init > 1`` the clustering is run from that many initialisations
    (seeds ``seed .. seed + n_init - 1``) and the one with the lowest
    within-cluster sum of squares is kept, as scikit-learn's ``KMeans``
    does. A better optimum of the k-means objective is not always a better
    segmentation: on two-colour gradients the lowest-inertia split can cut
    the background in two.

    Args:
        feats (Tensor): Features (B, C, H, W).
        k (int): Number of clusters.
        seed (int): Seed of the k-means++ initialisation. Defaults to 0.
        n_init (int): Initialisations per image. Defaults to 1.

    Returns:
        Tensor: Cluster ids (B, H, W), int64, on the device of ``feats``.
    """
    if k < 1:
        raise ValueError(f'k must be >= 1, got {k}')
    if n_init < 1:
        raise ValueError(f'n_init must be >= 1, got {n_init}')
    b, c, h, w = feats.shape
    out = []
    for f in feats.detach().float().cpu().numpy():
        x = f.reshape(c, -1).T.astype(np.float64)
        x = (x - x.mean(0)) / (x.std(0) + 1e-6)
        best = None
        for s in range(seed, seed + n_init):
            centres, labels = kmeans2(x, k, minit='++', seed=s)
            inertia = ((x - centres[labels])**2).sum()
            if best is None or inertia < best[0]:
                best = (inertia, labels)
        labels = best[1]
        out.append(torch.from_numpy(labels.reshape(h, w).astype(np.int64)))
    return torch.stack(out).to(feats.device)
