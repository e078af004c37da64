# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Leopart's community-detection merging: co-occurrence counts, edges,
Infomap merging and DenseClusterMetric's ``community`` option."""
import importlib.util
import sys

import numpy as np
import pytest
import torch

from projects.leopart_eval.leopart_eval import (DenseClusterMetric,
                                                community_edges,
                                                cooccurrence_matrix,
                                                infomap_communities,
                                                merge_communities)
from projects.leopart_eval.leopart_eval.cooccurrence import (
    LEOPART_ANGLES, LEOPART_DISTANCES, cooccurrence_offsets)

needs_infomap = pytest.mark.skipif(
    importlib.util.find_spec('infomap') is None,
    reason='needs infomap (pip install --no-deps infomap==2.16.0)')

CLASSES = ('background', 'a', 'b', 'c')


def _glcm_reference(image: np.ndarray, levels: int) -> np.ndarray:
    """skimage's ``_glcm_loop`` pixel by pixel, summed over distances and
    angles (C's round: halves away from zero; no value here is a half)."""
    counts = np.zeros((levels, levels), dtype=np.int64)
    rows, cols = image.shape
    for angle in LEOPART_ANGLES:
        for distance in LEOPART_DISTANCES:
            dr = int(round(np.sin(angle) * distance))
            dc = int(round(np.cos(angle) * distance))
            for r in range(max(0, -dr), min(rows, rows - dr)):
                for c in range(max(0, -dc), min(cols, cols - dc)):
                    counts[image[r, c], image[r + dr, c + dc]] += 1
    return counts


def test_offsets_follow_skimage_rounding():
    # diagonals at distance 2 round back to one step; 4 pi / 3 (the
    # official's angle, not 5 pi / 4) gives (-1, -1) and (-2, -1)
    assert cooccurrence_offsets() == [(0, 1), (0, 2), (1, 1), (1, 1), (1, 0),
                                      (2, 0), (1, -1), (1, -1), (0, -1),
                                      (0, -2), (-1, -1), (-2, -1), (-1, 0),
                                      (-2, 0), (-1, 1), (-1, 1)]


def test_cooccurrence_matrix_hand_counts():
    """Two 1 x 3 images, 4 cluster ids (id 3 never occurs).

    Image 1 ``[0 1 1]``: pairs (0,1) x2 and (1,0) x2 (the (1,1) pairs are
    on the diagonal), rows 0 and 1 normalise to one-hots. Image 2
    ``[0 2 1]``: every off-diagonal pair once, each row [.5, .5]. Clusters
    0 and 1 have neighbours in both images, cluster 2 in one.
    """
    maps = np.array([[[0, 1, 1]], [[0, 2, 1]]])
    matrix, appearances = cooccurrence_matrix(maps, 4)
    assert appearances.tolist() == [2, 2, 1, 0]
    expected = np.array([[0, 0.75, 0.25, 0], [0.75, 0, 0.25, 0],
                         [0.5, 0.5, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_allclose(matrix, expected)


def test_cooccurrence_matrix_matches_a_pixel_loop():
    """2-D maps (all 16 offsets in play) against skimage's loop."""
    rng = np.random.default_rng(0)
    maps = [rng.integers(0, 5, size=(6, 7)), rng.integers(0, 5, (4, 4))]
    maps[1][maps[1] == 4] = 3  # cluster 4 only occurs in the first image
    normalised = []
    for m in maps:
        counts = _glcm_reference(m, 5).astype(np.float64)
        np.fill_diagonal(counts, 0)
        sums = counts.sum(1, keepdims=True)
        normalised.append(np.divide(counts, np.maximum(sums, 1)))
    matrix, appearances = cooccurrence_matrix(maps, 5)
    assert appearances.tolist() == [2, 2, 2, 2, 1]
    expected = (normalised[0] + normalised[1]) / appearances[:, None]
    np.testing.assert_allclose(matrix, expected)
    np.testing.assert_allclose(matrix.sum(1), 1.0)


def test_cooccurrence_matrix_refuses_out_of_range_ids():
    with pytest.raises(ValueError, match=r'\[0, 3\)'):
        cooccurrence_matrix(np.array([[[0, 3]]]), 3)


def test_community_edges_need_the_threshold_both_ways():
    matrix = np.array([[0.0, 0.5, 0.05], [0.3, 0.0, 0.2], [0.1, 0.2, 0.0]])
    # (0, 2) fails one way (0.05 < 0.1); the weight is the smaller value;
    # the threshold itself is kept
    assert community_edges(matrix, 0.1) == [(0, 1, 0.3), (1, 2, 0.2)]
    assert community_edges(matrix, 0.2) == [(0, 1, 0.3), (1, 2, 0.2)]
    assert community_edges(matrix, 0.25) == [(0, 1, 0.3)]
    with pytest.raises(ValueError, match='weight_threshold'):
        community_edges(matrix, 0)


def _two_pair_maps() -> np.ndarray:
    """Clusters 0/1 interleaved by columns on the left, 2/3 on the right;
    a lone pixel of cluster 4 inside the left half."""
    maps = np.zeros((3, 8, 12), dtype=np.int64)
    cols = np.arange(12)
    maps[:] = np.where(cols < 6, cols % 2, 2 + cols % 2)
    maps[0, 4, 2] = 4
    return maps


@needs_infomap
def test_merge_two_co_occurring_pairs():
    maps = _two_pair_maps()
    matrix, _ = cooccurrence_matrix(maps, 5)
    # across the halves the clusters barely touch
    assert matrix[1, 2] < 0.2 and matrix[0, 1] > 0.8
    merged, count = merge_communities(
        maps, 5, weight_threshold=0.2, markov_time=1.0, seed=1)
    assert count == 2
    assert merged.shape == maps.shape and merged.dtype == np.int64
    left, right = merged[1, :, 0], merged[1, :, 11]
    assert (merged[1, :, :6] == left[0]).all()
    assert (merged[1, :, 6:] == right[0]).all()
    assert left[0] != right[0] and 0 not in (left[0], right[0])
    # cluster 4 co-occurs with 0 and 1, but they hardly with it: no edge,
    # so it keeps the id 0 of unlinked clusters
    assert merged[0, 4, 2] == 0
    # a threshold nothing reaches links nothing: everything is id 0
    merged, count = merge_communities(
        list(maps), 5, weight_threshold=1.0, markov_time=1.0)
    assert count == 0 and all((m == 0).all() for m in merged)


def test_infomap_communities_seed_and_missing_package(monkeypatch):
    with pytest.raises(ValueError, match='seed'):
        infomap_communities([(0, 1, 1.0)], seed=0)
    monkeypatch.setitem(sys.modules, 'infomap', None)
    with pytest.raises(ImportError, match='pip install --no-deps infomap'):
        infomap_communities([(0, 1, 1.0)])
    with pytest.raises(ImportError, match='infomap'):
        DenseClusterMetric(
            community=dict(k=8, weight_threshold=0.1, markov_time=1.0))


def _striped_data(num_images: int = 8, size: int = 12, seed: int = 0):
    """GT with two classes per image (left / right half); every class is
    two feature blobs interleaved column by column."""
    g = torch.Generator().manual_seed(seed)
    gt = torch.zeros(num_images, size, size, dtype=torch.long)
    for i in range(num_images):
        pair = torch.randperm(len(CLASSES), generator=g)[:2]
        gt[i, :, :size // 2], gt[i, :, size // 2:] = pair
    sub = gt * 2 + torch.arange(size) % 2
    centres = torch.randn(2 * len(CLASSES), 16, generator=g) * 8
    feats = centres[sub] + 0.1 * torch.randn(*sub.shape, 16, generator=g)
    return feats.permute(0, 3, 1, 2).contiguous(), gt


def _run(feats, gt, **kwargs):
    metric = DenseClusterMetric(
        eval_size=None, pca_dim=8, seeds=(0, ), **kwargs)
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, [
        dict(seg_logits=dict(data=f), gt_sem_seg=dict(data=g[None]))
        for f, g in zip(feats, gt)
    ])
    return metric, metric.compute_metrics(metric.results)


@needs_infomap
def test_metric_community_option_recovers_the_classes():
    feats, gt = _striped_data()
    community = dict(k=8, weight_threshold=0.2, markov_time=1.0, num_runs=3)
    metric, out = _run(feats, gt, community=community)
    assert out['community_mIoU'] == 100.0
    assert out['community_mIoU_std'] == 0.0
    assert out['community_aAcc'] == 100.0
    assert out['community_num_communities'] == 4.0
    assert len(metric.last_communities) == 3
    for communities in metric.last_communities:
        # the two blobs of each class (clusters) share a community
        assert len(communities) == 8 and len(set(communities.values())) == 4
    # the same k = 8 clusters matched one-to-one without merging fall short
    _, plain = _run(feats, gt, num_clusters=8, matching='hungarian')
    assert plain['mIoU'] < 80
    # the option off: the keys of before, nothing community-related
    metric, off = _run(feats, gt)
    assert set(off) == {'mIoU', 'mIoU_std', 'aAcc', 'mAcc'}
    assert metric.last_communities == []


@pytest.mark.parametrize('community, field', [
    (dict(k=1, weight_threshold=0.1, markov_time=1.0), 'community.k'),
    (dict(k=8, weight_threshold=0,
          markov_time=1.0), 'community.weight_threshold'),
    (dict(k=8, weight_threshold=0.1,
          markov_time=-1.0), 'community.markov_time'),
    (dict(k=8, weight_threshold=0.1, markov_time=1.0,
          num_runs=0), 'community.num_runs'),
    (dict(k=8, weight_threshold=0.1), 'markov_time'),
    (dict(k=8, weight_threshold=0.1, markov_time=1.0, seed=3), 'seed'),
    ([8, 0.1, 1.0], 'community must be a dict'),
])
def test_bad_community_option_names_the_field(community, field):
    with pytest.raises(ValueError, match=field):
        DenseClusterMetric(community=community)
