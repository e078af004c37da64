# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Dataset-level clustering of dense features (Leopart's protocol).

Pure torch helpers used by :class:`DenseClusterMetric`. They work on one
``(N, C)`` matrix holding the feature vectors of every pixel (or patch) of
an evaluation split, in the order of Leopart's ``normalize_and_transform``
and ``cluster`` (``experiments/utils.py`` of the official code):

1. :func:`znormalize`: per-channel standardisation over the whole split
   (scikit-learn's ``StandardScaler``: population std, a constant channel
   is left unscaled);
2. :func:`pca_project`: projection on the top principal components (faiss'
   ``PCAMatrix`` without whitening), computed here from the channel
   covariance with :func:`torch.linalg.svd`;
3. :func:`kmeans`: Lloyd's k-means with k-means++ seeding and ``nredo``
   restarts that keep the lowest inertia (faiss' ``Kmeans`` with ``niter``
   and ``nredo``), then :func:`assign_to_centroids` labels every vector.

Every function processes the rows in chunks, so memory stays at the input
plus one chunk.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

__all__ = ['znormalize', 'pca_project', 'kmeans', 'assign_to_centroids']

# rows per chunk of the (N, C) matrices; distances take chunk x K floats
_CHUNK_ROWS = 1 << 16
_CHUNK_FLOATS = 1 << 24


def _check_matrix(x: Tensor, name: str) -> None:
    if not torch.is_tensor(x) or x.dim() != 2:
        shape = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
        raise ValueError(f'{name} must be an (N, C) tensor, got {shape}')
    if not x.is_floating_point():
        raise ValueError(f'{name} must be a floating point tensor, got '
                         f'{x.dtype}')


def znormalize(x: Tensor, eps: float = 0.0) -> Tensor:
    """Standardise every channel over all rows, in place.

    ``x[:, c] = (x[:, c] - mean_c) / std_c`` with the population standard
    deviation (``ddof=0``), as scikit-learn's ``StandardScaler`` that
    Leopart uses. Channels whose std is 0 are only centred (their scale is
    1, as ``StandardScaler`` does). Sums are accumulated in float64.

    Args:
        x (Tensor): ``(N, C)`` floating point features; overwritten.
        eps (float): Added to every std (0 in ``StandardScaler``; the
            official ``PredsmIoUKmeans`` adds 1e-5). Defaults to 0.

    Returns:
        Tensor: ``x``, standardised.
    """
    _check_matrix(x, 'x')
    n = x.shape[0]
    if n == 0:
        raise ValueError('x has no rows: nothing to normalise')
    total = torch.zeros(x.shape[1], dtype=torch.float64, device=x.device)
    for start in range(0, n, _CHUNK_ROWS):
        total += x[start:start + _CHUNK_ROWS].double().sum(0)
    mean = total / n
    sq = torch.zeros_like(total)
    for start in range(0, n, _CHUNK_ROWS):
        sq += ((x[start:start + _CHUNK_ROWS].double() - mean)**2).sum(0)
    std = (sq / n).sqrt()
    std = torch.where(std > 0, std, torch.ones_like(std)) + eps
    mean, std = mean.to(x.dtype), std.to(x.dtype)
    for start in range(0, n, _CHUNK_ROWS):
        chunk = x[start:start + _CHUNK_ROWS]
        chunk.sub_(mean).div_(std)
    return x


def pca_project(x: Tensor, dim: int) -> Tensor:
    """Project the rows of ``x`` on its top ``dim`` principal components.

    The ``C x C`` covariance of the rows is accumulated in float64 over all
    rows, decomposed with :func:`torch.linalg.svd` (for a symmetric
    positive semi-definite matrix the singular vectors are the
    eigenvectors), and the centred rows are projected on the ``dim``
    leading vectors, without whitening (faiss' ``PCAMatrix`` with its
    default ``eigen_power=0``, which Leopart uses). Each component's sign
    is fixed so that its largest-magnitude loading is positive, so the
    output does not depend on the SVD backend's sign choice.

    Args:
        x (Tensor): ``(N, C)`` floating point features.
        dim (int): Number of components, ``1 <= dim <= C``.

    Returns:
        Tensor: ``(N, dim)`` projections, in the dtype of ``x``.

    Raises:
        ValueError: ``dim`` is not in ``[1, C]``.
    """
    _check_matrix(x, 'x')
    n, channels = x.shape
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise ValueError(f'pca_dim must be a positive int, got {dim!r}')
    if dim > channels:
        raise ValueError(
            f'pca_dim={dim} is larger than the feature width C={channels}: '
            f'set pca_dim <= {channels}, or pca_dim=None to skip PCA')
    if n == 0:
        raise ValueError('x has no rows: nothing to project')
    total = torch.zeros(channels, dtype=torch.float64, device=x.device)
    gram = torch.zeros(
        channels, channels, dtype=torch.float64, device=x.device)
    for start in range(0, n, _CHUNK_ROWS):
        chunk = x[start:start + _CHUNK_ROWS].double()
        total += chunk.sum(0)
        gram += chunk.T @ chunk
    mean = total / n
    cov = gram / n - torch.outer(mean, mean)
    vectors, _, _ = torch.linalg.svd(cov)
    basis = vectors[:, :dim]
    # deterministic signs: the largest |loading| of each component > 0
    pivot = basis.abs().argmax(0)
    signs = torch.sign(basis[pivot, torch.arange(dim, device=x.device)])
    basis = basis * torch.where(signs == 0, torch.ones_like(signs), signs)
    basis, mean = basis.to(x.dtype), mean.to(x.dtype)
    out = x.new_empty(n, dim)
    for start in range(0, n, _CHUNK_ROWS):
        out[start:start + _CHUNK_ROWS] = \
            (x[start:start + _CHUNK_ROWS] - mean) @ basis
    return out


def assign_to_centroids(x: Tensor, centroids: Tensor) -> Tuple[Tensor, Tensor]:
    """Nearest centroid (squared Euclidean distance) of every row.

    Args:
        x (Tensor): ``(N, D)`` vectors.
        centroids (Tensor): ``(K, D)`` centroids.

    Returns:
        tuple[Tensor, Tensor]: ``(N,)`` int64 cluster ids (ties go to the
        lower id) and ``(N,)`` squared distances to the chosen centroid.
    """
    _check_matrix(x, 'x')
    _check_matrix(centroids, 'centroids')
    if x.shape[1] != centroids.shape[1]:
        raise ValueError(f'x has {x.shape[1]} dims, centroids '
                         f'{centroids.shape[1]}')
    n, k = x.shape[0], centroids.shape[0]
    rows = max(1, min(_CHUNK_ROWS, _CHUNK_FLOATS // max(k, 1)))
    c_sq = (centroids * centroids).sum(1)
    labels = torch.empty(n, dtype=torch.long, device=x.device)
    dists = torch.empty(n, dtype=x.dtype, device=x.device)
    for start in range(0, n, rows):
        chunk = x[start:start + rows]
        d2 = (chunk * chunk).sum(1, keepdim=True) - 2 * chunk @ centroids.T \
            + c_sq
        best, ids = d2.min(1)
        labels[start:start + rows] = ids
        dists[start:start + rows] = best.clamp_min(0)
    return labels, dists


def _kmeans_pp(x: Tensor, k: int, generator: torch.Generator) -> Tensor:
    """k-means++ seeding (Arthur and Vassilvitskii, 2007): the first centre
    uniformly at random, each next one with probability proportional to
    the squared distance to the nearest centre chosen so far. Draws come
    from ``generator`` (on the CPU), so the seeding is reproducible."""
    n = x.shape[0]
    first = int(torch.randint(n, (1, ), generator=generator))
    centres = [x[first]]
    nearest = ((x - x[first])**2).sum(1)
    for _ in range(1, k):
        weights = nearest.double().cpu()
        if weights.sum() <= 0:
            # every remaining point sits on a centre: pick uniformly
            weights = torch.ones_like(weights)
        idx = int(torch.multinomial(weights, 1, generator=generator))
        centres.append(x[idx])
        nearest = torch.minimum(nearest, ((x - x[idx])**2).sum(1))
    return torch.stack(centres)


def _lloyd(x: Tensor, centroids: Tensor, niter: int) -> Tuple[Tensor, float]:
    """Lloyd iterations from ``centroids``; returns the final centroids and
    the inertia (sum of squared distances) of ``x`` to them.

    A cluster left empty by an update is re-seeded on the point farthest
    from its centroid (a different point for each empty cluster), so all
    ``K`` clusters stay in use, as faiss does by splitting large clusters.
    Iterations stop early once no assignment changes (the later ones would
    repeat it exactly).
    """
    k = centroids.shape[0]
    labels = None
    for _ in range(niter):
        new_labels, dists = assign_to_centroids(x, centroids)
        if labels is not None and torch.equal(new_labels, labels):
            break
        labels = new_labels
        counts = torch.bincount(labels, minlength=k)
        sums = torch.zeros_like(centroids).index_add_(0, labels, x)
        empty = counts == 0
        centroids = torch.where(empty[:, None], centroids,
                                sums / counts.clamp_min(1)[:, None])
        if empty.any():
            far = torch.argsort(dists, descending=True, stable=True)
            centroids[empty] = x[far[:int(empty.sum())]]
    _, dists = assign_to_centroids(x, centroids)
    return centroids, float(dists.double().sum())


def kmeans(
        x: Tensor,
        k: int,
        niter: int = 50,
        nredo: int = 5,
        seed: int = 0,
        generator: Optional[torch.Generator] = None) -> Tuple[Tensor, float]:
    """k-means of the rows of ``x``, best of ``nredo`` runs.

    Each run seeds the centroids by k-means++ and runs at most ``niter``
    Lloyd iterations; the run with the lowest inertia on ``x`` is kept
    (faiss' ``nredo``). The draws of all runs come from one CPU generator
    seeded with ``seed``, so the result is a function of ``(x, k, niter,
    nredo, seed)``.

    Args:
        x (Tensor): ``(N, D)`` floating point vectors, ``N >= k``.
        k (int): Number of clusters.
        niter (int): Lloyd iterations per run. Defaults to 50.
        nredo (int): Runs; the lowest inertia wins. Defaults to 5.
        seed (int): Seed of the generator. Defaults to 0.
        generator (torch.Generator, optional): A CPU generator to draw from
            instead of a new one seeded with ``seed``. Defaults to None.

    Returns:
        tuple[Tensor, float]: ``(k, D)`` centroids and their inertia.
    """
    _check_matrix(x, 'x')
    for name, value in (('num_clusters', k), ('niter', niter), ('nredo',
                                                                nredo)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f'{name} must be a positive int, got {value!r}')
    if x.shape[0] < k:
        raise ValueError(f'cannot form num_clusters={k} clusters from '
                         f'{x.shape[0]} feature vectors: lower num_clusters '
                         'or evaluate more pixels')
    if generator is None:
        generator = torch.Generator().manual_seed(int(seed))
    best = None
    for _ in range(nredo):
        centroids, inertia = _lloyd(x, _kmeans_pp(x, k, generator), niter)
        if best is None or inertia < best[1]:
            best = (centroids, inertia)
    return best
