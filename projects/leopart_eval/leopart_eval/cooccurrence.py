# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Cluster co-occurrence, the graph that Leopart's community merging cuts.

Steps 1 and 2 of :mod:`.community_merging` (the official
``experiments/fully_unsup_seg/fully_unsup_seg.py``, Ziegler and Asano,
CVPR 2022): :func:`cooccurrence_matrix` counts, per image, how often
cluster ``j`` lies at a fixed offset from cluster ``i`` (skimage's
``greycomatrix`` offsets), and :func:`community_edges` keeps the cluster
pairs that co-occur both ways. No step reads labels.
"""
import math
from typing import List, Sequence, Tuple, Union

import numpy as np

from .value_checks import is_int, is_real

__all__ = [
    'LEOPART_ANGLES', 'LEOPART_DISTANCES', 'community_edges',
    'cooccurrence_matrix', 'cooccurrence_offsets'
]

ClusterMaps = Union[np.ndarray, Sequence[np.ndarray]]
Edge = Tuple[int, int, float]

#: Pixel-pair distances of the official ``create_matrix``.
LEOPART_DISTANCES: Tuple[int, ...] = (1, 2)
#: The official's 8 angles, as written there (4 pi / 3, not 5 pi / 4).
LEOPART_ANGLES: Tuple[float, ...] = (0.0, math.pi / 4, math.pi / 2,
                                     3 * math.pi / 4, math.pi, 4 * math.pi / 3,
                                     3 * math.pi / 2, 7 * math.pi / 4)


def _round_half_away(value: float) -> int:
    """C's ``round`` (halves away from zero), which skimage uses."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def cooccurrence_offsets(
        distances: Sequence[int] = LEOPART_DISTANCES,
        angles: Sequence[float] = LEOPART_ANGLES) -> List[Tuple[int, int]]:
    """Pixel offsets ``(d_row, d_col)`` of skimage's ``greycomatrix``.

    For every angle and distance, ``(round(sin(a) * d), round(cos(a) * d))``
    with C's rounding, as skimage's ``_glcm_loop``. With Leopart's values
    the diagonals at distance 2 round to ``(+-1, +-1)`` again, and 4 pi / 3
    gives ``(-1, -1)`` and ``(-2, -1)``. Offsets are kept with repetition,
    as greycomatrix counts every (distance, angle) pair.

    Args:
        distances (Sequence[int]): Pixel-pair distances. Defaults to
            :data:`LEOPART_DISTANCES`.
        angles (Sequence[float]): Angles in radians. Defaults to
            :data:`LEOPART_ANGLES`.

    Returns:
        list[tuple[int, int]]: One offset per (angle, distance), angles
        outer.
    """
    return [(_round_half_away(math.sin(a) * d),
             _round_half_away(math.cos(a) * d)) for a in angles
            for d in distances]


def as_cluster_maps(cluster_maps: ClusterMaps,
                    num_clusters: int) -> List[np.ndarray]:
    """Validated list of 2-D int64 cluster maps."""
    if isinstance(cluster_maps, np.ndarray) and cluster_maps.ndim == 2:
        raise ValueError('cluster_maps must be (N, H, W) or a sequence of '
                         '(H, W) maps, got one 2-D map')
    maps = [np.asarray(m) for m in cluster_maps]
    if not maps:
        raise ValueError('cluster_maps holds no image')
    for m in maps:
        if m.ndim != 2 or not np.issubdtype(m.dtype, np.integer):
            raise ValueError('each cluster map must be a 2-D integer array, '
                             f'got {m.dtype} {m.shape}')
        if m.size and (m.min() < 0 or m.max() >= num_clusters):
            raise ValueError(f'cluster ids must lie in [0, {num_clusters}), '
                             f'got [{m.min()}, {m.max()}]')
    return [m.astype(np.int64, copy=False) for m in maps]


def _image_counts(cluster_map: np.ndarray, num_clusters: int,
                  offsets: Sequence[Tuple[int, int]]) -> np.ndarray:
    """``counts[i, j]``: pixels of cluster ``i`` whose pixel at an offset
    holds cluster ``j``, summed over offsets (greycomatrix, unnormalised)."""
    h, w = cluster_map.shape
    counts = np.zeros(num_clusters * num_clusters, dtype=np.int64)
    for dr, dc in offsets:
        if abs(dr) >= h or abs(dc) >= w:
            continue
        src = cluster_map[max(0, -dr):h - max(0, dr),
                          max(0, -dc):w - max(0, dc)]
        dst = cluster_map[max(0, dr):h - max(0, -dr),
                          max(0, dc):w - max(0, -dc)]
        counts += np.bincount(
            (src * num_clusters + dst).ravel(),
            minlength=num_clusters * num_clusters)
    return counts.reshape(num_clusters, num_clusters)


def cooccurrence_matrix(
        cluster_maps: ClusterMaps,
        num_clusters: int,
        distances: Sequence[int] = LEOPART_DISTANCES,
        angles: Sequence[float] = LEOPART_ANGLES
) -> Tuple[np.ndarray, np.ndarray]:
    """Leopart's row-stochastic cluster co-occurrence matrix.

    The official ``create_matrix``: for each image, the grey-level
    co-occurrence counts of its cluster ids at every offset of
    :func:`cooccurrence_offsets` (pairs whose second pixel falls outside
    the image are not counted) are summed over offsets, the diagonal is
    set to 0, and each row is divided by its sum (a row that sums to 0
    stays 0). These per-image matrices are summed, and row ``i`` of the
    sum is divided by the number of images in which row ``i`` had a
    positive sum. A cluster that never touches another one keeps a zero
    row (the official divides 0 by 0 there, which cannot happen in its
    runs since every cluster occurs).

    Args:
        cluster_maps (np.ndarray | Sequence[np.ndarray]): Integer cluster
            ids in ``[0, num_clusters)``, ``(N, H, W)`` or N maps of any
            ``(H, W)``.
        num_clusters (int): Number of cluster ids (rows of the matrix).
        distances (Sequence[int]): Pixel-pair distances. Defaults to
            :data:`LEOPART_DISTANCES`.
        angles (Sequence[float]): Angles in radians. Defaults to
            :data:`LEOPART_ANGLES`.

    Returns:
        tuple[np.ndarray, np.ndarray]: The ``(K, K)`` float64 matrix and the
        ``(K,)`` int64 number of images in which each cluster had a
        neighbour of another cluster.
    """
    if not is_int(num_clusters) or num_clusters < 1:
        raise ValueError('num_clusters must be a positive int, got '
                         f'{num_clusters!r}')
    maps = as_cluster_maps(cluster_maps, num_clusters)
    offsets = cooccurrence_offsets(distances, angles)
    total = np.zeros((num_clusters, num_clusters), dtype=np.float64)
    appearances = np.zeros(num_clusters, dtype=np.int64)
    for cluster_map in maps:
        counts = _image_counts(cluster_map, num_clusters, offsets)
        np.fill_diagonal(counts, 0)
        row_sum = counts.sum(axis=1)
        present = row_sum > 0
        total[present] += counts[present] / row_sum[present, None]
        appearances += present
    seen = appearances > 0
    total[seen] /= appearances[seen, None]
    return total, appearances


def community_edges(matrix: np.ndarray, weight_threshold: float) -> List[Edge]:
    """Undirected edges between clusters that co-occur both ways.

    ``(i, j, min(A[i, j], A[j, i]))`` for every ``i <= j`` with both
    ``A[i, j]`` and ``A[j, i]`` at least ``weight_threshold`` (the
    official). The diagonal of :func:`cooccurrence_matrix` is 0, so a
    positive threshold never gives a self-loop.

    Args:
        matrix (np.ndarray): ``(K, K)`` co-occurrence matrix.
        weight_threshold (float): Smallest co-occurrence kept; must be
            positive.

    Returns:
        list[tuple[int, int, float]]: Edges ``(i, j, weight)``, ordered by
        ``i`` then ``j``.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f'matrix must be square, got {matrix.shape}')
    if not is_real(weight_threshold) or not weight_threshold > 0:
        raise ValueError('weight_threshold must be a positive number, got '
                         f'{weight_threshold!r}')
    weights = np.minimum(matrix, matrix.T)
    rows, cols = np.nonzero(np.triu(weights >= weight_threshold))
    return [(int(i), int(j), float(weights[i, j])) for i, j in zip(rows, cols)]
