# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Leopart's community-detection merging of over-clustered dense features.

The optional last step of Leopart's fully unsupervised segmentation
(``experiments/fully_unsup_seg/fully_unsup_seg.py`` of the official code,
Ziegler and Asano, CVPR 2022): over-cluster at ``k`` clusters, link the
clusters that often touch each other in the images, and merge them into
the communities Infomap finds in that graph:

1. :func:`cooccurrence_matrix` (in :mod:`.cooccurrence`): per image,
   count how often cluster ``j`` lies at a fixed offset from cluster
   ``i`` (the 16 offsets of skimage's ``greycomatrix`` at distances 1 and
   2 in 8 directions), zero the diagonal, normalise each row of that
   image's counts, sum over images and divide each row by the number of
   images in which the cluster had a neighbour of another cluster;
2. :func:`community_edges` (in :mod:`.cooccurrence`): undirected edges
   ``(i, j, min(A_ij, A_ji))`` between clusters whose co-occurrence
   reaches ``weight_threshold`` both ways;
3. :func:`infomap_communities`: two-level undirected Infomap on those
   edges (the ``infomap`` package, imported only here);
4. :func:`merge_communities`: all of the above, and each cluster map
   relabelled with its cluster's community (id 0 for clusters without any
   edge).

:func:`community_merged_scores` scores the merged maps of several Infomap
seeds by Hungarian matching; :class:`DenseClusterMetric` calls it when its
``community`` option is set. No step reads labels; the hyperparameters
(``k``, ``weight_threshold``, ``markov_time``) are the user's, and a score
is label-free only if they were chosen without labels (Leopart tuned them
by optuna on train-split mIoU).
"""
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from mmfactdiff.evaluation.functional import (hungarian_match, matched_scores,
                                              region_confusion)
from .cooccurrence import (ClusterMaps, Edge, as_cluster_maps, community_edges,
                           cooccurrence_matrix)
from .value_checks import is_int, is_real

__all__ = [
    'check_community_option', 'community_merged_scores', 'infomap_communities',
    'merge_communities'
]

_INFOMAP_HINT = ('Leopart community merging needs the infomap package: '
                 'pip install --no-deps infomap==2.16.0')


def _import_infomap():
    """The ``infomap`` module, or an ImportError that says how to get it."""
    try:
        import infomap
    except ImportError as err:
        raise ImportError(_INFOMAP_HINT) from err
    if not hasattr(infomap, 'run') or not hasattr(infomap, 'Options'):
        raise ImportError(
            f'infomap {getattr(infomap, "__version__", "?")} has no '
            'infomap.run / infomap.Options (added in the 2.x line this '
            f'project pins); {_INFOMAP_HINT}')
    return infomap


def infomap_communities(
        edges: Sequence[Edge],
        seed: int = 1,
        markov_time: float = 1.0,
        preferred_number_of_modules: Optional[int] = None) -> Dict[int, int]:
    """Two-level undirected Infomap communities of the cluster graph.

    The official call is ``Infomap(directed=False, two_level=True,
    seed=run, markov_time=..., silent=True,
    preferred_number_of_modules=...)`` and ``add_links(edges)``; infomap
    2.16 moved these options to ``infomap.run`` / ``infomap.Options``,
    which this function uses. Infomap numbers modules from 1, and 2.16
    refuses seed 0 (the official's first run).

    Args:
        edges (Sequence[tuple[int, int, float]]): Weighted undirected edges,
            e.g. from :func:`community_edges`.
        seed (int): Infomap's random seed (>= 1). Defaults to 1.
        markov_time (float): Infomap's Markov time; larger values give
            fewer modules. Defaults to 1.0 (Infomap's default).
        preferred_number_of_modules (int, optional): Infomap penalises
            partitions by their distance to this number of modules; the
            official passes the number of object classes. None for no
            preference. Defaults to None.

    Returns:
        dict[int, int]: Module id (>= 1) of every node that has an edge.
        Empty when there is no edge (Infomap refuses an empty network).
    """
    if not is_int(seed) or seed < 1:
        raise ValueError(f'seed must be an int >= 1 (infomap refuses 0), '
                         f'got {seed!r}')
    if not edges:
        return {}
    infomap = _import_infomap()
    options = {'silent': True}
    if preferred_number_of_modules is not None:
        options['preferred_number_of_modules'] = int(
            preferred_number_of_modules)
    result = infomap.run([(int(i), int(j), float(w)) for i, j, w in edges],
                         options=infomap.Options(**options),
                         seed=seed,
                         two_level=True,
                         directed=False,
                         markov_time=float(markov_time))
    return {int(n): int(m) for n, m in result.modules().items()}


def _relabel(maps: List[np.ndarray], communities: Mapping[int, int],
             num_clusters: int) -> Tuple[List[np.ndarray], int]:
    """Maps relabelled by community (0 for unlisted clusters), and the
    number of communities."""
    table = np.zeros(num_clusters, dtype=np.int64)
    for cluster, module in communities.items():
        table[cluster] = module
    return [table[m] for m in maps], len(set(communities.values()))


def merge_communities(cluster_maps: ClusterMaps,
                      num_clusters: int,
                      weight_threshold: float,
                      markov_time: float,
                      preferred_number_of_modules: Optional[int] = None,
                      seed: int = 1) -> Tuple[ClusterMaps, int]:
    """Merge over-clustered maps into co-occurrence communities (Leopart).

    :func:`cooccurrence_matrix`, :func:`community_edges` and
    :func:`infomap_communities`, then every pixel takes its cluster's
    community id. Clusters without any edge get id 0, as in the official
    code (its merged map starts as zeros); communities keep Infomap's ids
    ``1..M``. No label is read.

    Args:
        cluster_maps (np.ndarray | Sequence[np.ndarray]): Integer cluster
            ids in ``[0, num_clusters)``, ``(N, H, W)`` or N maps of any
            ``(H, W)``.
        num_clusters (int): Number of cluster ids, k.
        weight_threshold (float): Smallest co-occurrence, both ways, that
            links two clusters (the official searched 0.01 to 0.1).
        markov_time (float): Infomap's Markov time (the official searched
            0.1 to 2).
        preferred_number_of_modules (int, optional): Infomap's preferred
            number of modules (the official: number of object classes,
            background excluded). Defaults to None.
        seed (int): Infomap seed, >= 1. Defaults to 1.

    Returns:
        tuple: The merged maps (an ``(N, H, W)`` int64 array for an array
        input, else a list) and the number of communities M.
    """
    maps = as_cluster_maps(cluster_maps, num_clusters)
    matrix, _ = cooccurrence_matrix(maps, num_clusters)
    communities = infomap_communities(
        community_edges(matrix, weight_threshold), seed, markov_time,
        preferred_number_of_modules)
    merged, count = _relabel(maps, communities, num_clusters)
    if isinstance(cluster_maps, np.ndarray):
        return np.stack(merged), count
    return merged, count


_COMMUNITY_DEFAULTS = dict(
    num_runs=10, kmeans_seed=0, preferred_number_of_modules=None)
_COMMUNITY_REQUIRED = ('k', 'weight_threshold', 'markov_time')


def check_community_option(option: Mapping) -> Dict[str, object]:
    """Validate :class:`DenseClusterMetric`'s ``community`` option.

    Args:
        option (Mapping): ``k`` (int >= 2), ``weight_threshold`` (in
            ``(0, 1]``) and ``markov_time`` (> 0) are required;
            ``num_runs`` (int >= 1, default 10, the official),
            ``kmeans_seed`` (int >= 0, default 0, the official's
            ``clustering_seed``) and ``preferred_number_of_modules``
            (int >= 1 or None, default None: the metric uses the number of
            classes, background included, since it clusters background
            pixels too; the official passes its 20 object classes and has
            background as one masked-out node) are optional.

    Returns:
        dict: The option with defaults filled in.

    Raises:
        ValueError: Naming the field that is missing, unknown or invalid.
        ImportError: If the ``infomap`` package is missing.
    """
    if not isinstance(option, Mapping):
        raise ValueError('community must be a dict (or None), got '
                         f'{option!r}')
    known = set(_COMMUNITY_REQUIRED) | set(_COMMUNITY_DEFAULTS)
    unknown = sorted(set(option) - known)
    if unknown:
        raise ValueError(f'community has unknown field(s) {unknown}; known: '
                         f'{sorted(known)}')
    missing = [name for name in _COMMUNITY_REQUIRED if name not in option]
    if missing:
        raise ValueError(f'community needs field(s) {missing} (no default: '
                         'Leopart tuned them on labels)')
    out = dict(_COMMUNITY_DEFAULTS, **option)
    checks = {
        'k': (lambda v: is_int(v) and v >= 2, 'an int >= 2'),
        'weight_threshold':
        (lambda v: is_real(v) and 0 < v <= 1, 'a number in (0, 1]'),
        'markov_time': (lambda v: is_real(v) and v > 0, 'a number > 0'),
        'num_runs': (lambda v: is_int(v) and v >= 1, 'an int >= 1'),
        'kmeans_seed': (lambda v: is_int(v) and v >= 0, 'an int >= 0'),
        'preferred_number_of_modules':
        (lambda v: v is None or (is_int(v) and v >= 1), 'None or an int >= 1'),
    }
    for name, (valid, text) in checks.items():
        if not valid(out[name]):
            raise ValueError(f'community.{name} must be {text}, got '
                             f'{out[name]!r}')
    _import_infomap()
    return out


def community_merged_scores(
    cluster_maps: Sequence[np.ndarray],
    gts: Sequence[np.ndarray],
    num_clusters: int,
    num_classes: int,
    weight_threshold: float,
    markov_time: float,
    seeds: Sequence[int],
    preferred_number_of_modules: Optional[int] = None,
    ignore_index: int = 255,
    unmatched_class: int = 0,
    log: Optional[Callable[[str], None]] = None
) -> Tuple[List[dict], List[Dict[int, int]], List[Dict[int, int]]]:
    """Merge once per Infomap seed and score by Hungarian matching.

    The co-occurrence matrix and edges are computed once; Infomap runs for
    every seed. Each run's merged maps (ids ``0..M``) are counted against
    the GT, merged ids are matched one-to-one to classes
    (:func:`~mmfactdiff.evaluation.functional.hungarian_match`; merged ids
    left over count as ``unmatched_class``) and scored with
    :func:`~mmfactdiff.evaluation.functional.matched_scores`. The official
    scores ``num_objects + 1`` merged ids against as many classes; here
    the number of merged ids is whatever Infomap returns (plus id 0).

    Args:
        cluster_maps (Sequence[np.ndarray]): Each image's ``(H, W)``
            cluster ids, at its GT's size.
        gts (Sequence[np.ndarray]): Each image's ``(H, W)`` class ids.
        num_clusters (int): Number of cluster ids, k.
        num_classes (int): Number of classes, C.
        weight_threshold (float): See :func:`community_edges`.
        markov_time (float): See :func:`infomap_communities`.
        seeds (Sequence[int]): Infomap seeds (>= 1), one run each.
        preferred_number_of_modules (int, optional): See
            :func:`infomap_communities`. Defaults to None.
        ignore_index (int): GT value left out of the counts.
            Defaults to 255.
        unmatched_class (int): Class of unmatched merged ids.
            Defaults to 0.
        log (Callable[[str], None], optional): Receives one line about the
            graph and one per run. Defaults to None.

    Returns:
        tuple: Per run, the :func:`matched_scores` dict (plus
        ``num_communities``), the merged-id -> class mapping, and the
        cluster -> community mapping.
    """
    maps = as_cluster_maps(cluster_maps, num_clusters)
    if len(gts) != len(maps):
        raise ValueError(f'{len(maps)} cluster maps but {len(gts)} GT maps')
    matrix, appearances = cooccurrence_matrix(maps, num_clusters)
    edges = community_edges(matrix, weight_threshold)
    linked = {i for edge in edges for i in edge[:2]}
    if log is not None:
        log(f'community graph: {len(edges)} edges between {len(linked)} of '
            f'{num_clusters} clusters (weight_threshold {weight_threshold}; '
            f'{int((appearances == 0).sum())} clusters never touch another)')
    scores, mappings, all_communities = [], [], []
    for seed in seeds:
        communities = infomap_communities(edges, seed, markov_time,
                                          preferred_number_of_modules)
        merged, count = _relabel(maps, communities, num_clusters)
        num_merged = max(int(m.max()) for m in merged) + 1
        confusion = sum(
            region_confusion(m, g, num_merged, num_classes, ignore_index)
            for m, g in zip(merged, gts))
        mapping = hungarian_match(confusion, unmatched_class)
        run = matched_scores(confusion, mapping)
        run['num_communities'] = count
        scores.append(run)
        mappings.append(mapping)
        all_communities.append(communities)
        if log is not None:
            log(f'Infomap seed {seed}: {count} communities, merged mIoU '
                f'{run["mIoU"] * 100:.2f}')
    return scores, mappings, all_communities
