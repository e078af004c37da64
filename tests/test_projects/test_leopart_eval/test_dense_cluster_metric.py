# Copyright (c) mmfactdiff contributors. All rights reserved.
"""DenseClusterMetric and its clustering helpers on synthetic features
whose right answer is known."""
from typing import Dict, Optional

import numpy as np
import pytest
import torch
from mmseg.registry import METRICS

from mmfactdiff.evaluation.functional import (hungarian_match, matched_scores,
                                              region_confusion)
from projects.leopart_eval.leopart_eval import (DenseClusterMetric,
                                                assign_to_centroids, kmeans,
                                                many_to_one_match, pca_project,
                                                znormalize)

CLASSES = ('background', 'a', 'b', 'c')


def _blob_features(gt: torch.Tensor,
                   width: int = 16,
                   sep: float = 6.0,
                   noise: float = 0.1,
                   num_centres: Optional[int] = None,
                   seed: int = 0) -> torch.Tensor:
    """(N, width, h, w) features: one Gaussian blob per value of ``gt``."""
    g = torch.Generator().manual_seed(seed)
    num_centres = num_centres or int(gt.max()) + 1
    centres = torch.randn(num_centres, width, generator=g) * sep
    feats = centres[gt] + noise * torch.randn(*gt.shape, width, generator=g)
    return feats.permute(0, 3, 1, 2).contiguous()


def _samples(feats: torch.Tensor, gt: torch.Tensor) -> list:
    """Data samples in the dict form mmengine's Evaluator hands metrics."""
    return [
        dict(seg_logits=dict(data=f), gt_sem_seg=dict(data=g[None]))
        for f, g in zip(feats, gt)
    ]


def _evaluate(feats: torch.Tensor,
              gt: torch.Tensor,
              classes=CLASSES,
              **kwargs) -> Dict[str, float]:
    kwargs.setdefault('pca_dim', 8)
    kwargs.setdefault('eval_size', None)
    metric = DenseClusterMetric(**kwargs)
    metric.dataset_meta = dict(classes=classes)
    metric.process({}, _samples(feats, gt))
    out = metric.compute_metrics(metric.results)
    out['_metric'] = metric
    return out


def _random_labels(num_images=6, size=8, num_classes=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(num_classes, (num_images, size, size), generator=g)


def test_registered():
    metric = METRICS.build(dict(type='DenseClusterMetric'))
    assert isinstance(metric, DenseClusterMetric)
    assert metric.prefix == 'dense_cluster'


def test_separated_clusters_score_100_and_the_matching_is_a_bijection():
    gt = _random_labels()
    out = _evaluate(_blob_features(gt), gt)
    assert out['mIoU'] == 100.0 and out['mIoU_std'] == 0.0
    assert out['aAcc'] == 100.0
    # K == C: the official rule is Hungarian matching, no label-using keys
    assert not any(k.startswith('overcluster') for k in out)
    mappings = out['_metric'].last_mappings['hungarian']
    assert len(mappings) == 5
    for mapping in mappings:
        assert sorted(mapping.values()) == [0, 1, 2, 3]


def test_matching_recovers_a_known_permutation():
    """Clusters that are the classes under a permutation: both matchings
    give the permutation back and score 100."""
    gt = _random_labels(num_images=3).numpy()
    perm = np.array([2, 0, 3, 1])  # cluster perm[c] holds class c
    clusters = perm[gt]
    confusion = region_confusion(clusters, gt, 4, 4)
    expected = {int(perm[c]): c for c in range(4)}
    assert hungarian_match(confusion) == expected
    assert many_to_one_match(confusion) == expected
    assert matched_scores(confusion, expected)['mIoU'] == 1.0


def test_random_features_score_low():
    gt = _random_labels(num_images=8)
    g = torch.Generator().manual_seed(1)
    feats = torch.randn(8, 16, 8, 8, generator=g)
    out = _evaluate(feats, gt, seeds=(0, 1))
    # chance level for 4 balanced classes is 1/7 (14.3)
    assert out['mIoU'] < 25


def test_many_to_one_beats_hungarian_when_classes_split():
    """Every class is two blobs; K = 6 clusters for 3 classes."""
    g = torch.Generator().manual_seed(0)
    sub = torch.randint(6, (6, 8, 8), generator=g)  # sub-blob ids
    gt = sub // 2
    feats = _blob_features(sub, sep=8.0)
    out = _evaluate(
        feats,
        gt,
        classes=('background', 'a', 'b'),
        num_clusters=6,
        matching='both')
    assert out['overcluster_mIoU'] == 100.0
    assert out['overcluster_mIoU'] >= out['mIoU']
    # one-to-one leaves 3 clusters to background: far from perfect
    assert out['mIoU'] < 80
    # 'auto' with K > C is the official many-to-one rule only
    auto = _evaluate(
        feats, gt, classes=('background', 'a', 'b'), num_clusters=6)
    assert set(k for k in auto if not k.startswith('_')) == {
        'overcluster_mIoU', 'overcluster_mIoU_std', 'overcluster_aAcc',
        'overcluster_mAcc'
    }


def test_ignore_index_pixels_are_not_counted():
    """Pixels with class-0 features but class-1 labels cost IoU unless
    they are labelled ignore_index."""
    gt = _random_labels()
    feats = _blob_features(gt)
    # corner pixels look like class 0 ...
    zero = _blob_features(torch.zeros_like(gt))
    feats[:, :, :2, :2] = zero[:, :, :2, :2]
    wrong = gt.clone()
    wrong[:, :2, :2] = 1  # ... and are labelled 1
    ignored = gt.clone()
    ignored[:, :2, :2] = 255
    assert _evaluate(feats, ignored, seeds=(0, ))['mIoU'] == 100.0
    assert _evaluate(feats, wrong, seeds=(0, ))['mIoU'] < 100.0
    # a label that is neither a class nor ignore_index is an error
    with pytest.raises(ValueError, match='class ids'):
        _evaluate(feats, ignored, seeds=(0, ), ignore_index=254)


def test_znormalisation_makes_per_channel_affine_maps_irrelevant():
    """Six informative channels and one noise channel. Scaling the noise
    up and the signal down wrecks raw k-means; after z-normalisation the
    result is the same as on the original features."""
    gt = _random_labels()
    g = torch.Generator().manual_seed(3)
    signal = _blob_features(gt, width=6, sep=4.0, noise=0.1)
    noise = torch.randn(6, 1, 8, 8, generator=g)
    feats = torch.cat([signal, noise], dim=1)
    scale = torch.tensor([1e-3, 0.5, 2.0, 1e-2, 3.0, 0.1, 1e3])
    shift = torch.tensor([5.0, -3.0, 0.0, 1.0, 100.0, 7.0, -50.0])
    scaled = feats * scale[:, None, None] + shift[:, None, None]
    ref = _evaluate(feats, gt, pca_dim=4)
    out = _evaluate(scaled, gt, pca_dim=4)
    for key in ('mIoU', 'mIoU_std', 'aAcc', 'mAcc'):
        assert out[key] == pytest.approx(ref[key], abs=0.02), key
    assert ref['mIoU'] > 90
    # without the normalisation the scaled noise decides the clusters
    x = scaled.permute(0, 2, 3, 1).reshape(-1, 7)
    centroids, _ = kmeans(x, 4, seed=0)
    labels, _ = assign_to_centroids(x, centroids)
    confusion = region_confusion(
        labels.view(gt.shape).numpy(), gt.numpy(), 4, 4)
    raw = matched_scores(confusion, hungarian_match(confusion))['mIoU']
    assert raw * 100 < 50


def test_pca_dim_larger_than_the_features_is_an_error():
    gt = _random_labels(num_images=2)
    with pytest.raises(ValueError, match='pca_dim=32 .*C=16'):
        _evaluate(_blob_features(gt), gt, pca_dim=32)
    with pytest.raises(ValueError, match='pca_dim'):
        pca_project(torch.randn(10, 4), 5)
    # pca_dim=None skips PCA
    assert _evaluate(_blob_features(gt), gt, pca_dim=None)['mIoU'] == 100.0


def test_pca_keeps_the_top_components():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2000, 6, generator=g, dtype=torch.float64)
    x = x @ torch.randn(6, 6, generator=g, dtype=torch.float64)
    eig = np.linalg.eigvalsh(np.cov(x.numpy().T, bias=True))[::-1]
    y = pca_project(x.clone(), 3)
    cov = np.cov(y.numpy().T, bias=True)
    assert np.allclose(np.diag(cov), eig[:3], rtol=1e-6)
    assert np.allclose(cov - np.diag(np.diag(cov)), 0, atol=1e-6)


def test_znormalize_matches_standard_scaling():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(500, 3, generator=g, dtype=torch.float64) * 4 + 2
    x[:, 2] = 7.0  # a constant channel is only centred
    ref = x.numpy().copy()
    znormalize(x)
    std = ref.std(0)
    std[std == 0] = 1
    assert np.allclose(x.numpy(), (ref - ref.mean(0)) / std)


def test_kmeans_finds_the_blobs_and_keeps_the_best_restart():
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0., 0.], [10., 0.], [0., 10.], [10., 10.]])
    ids = torch.randint(4, (400, ), generator=g)
    x = centres[ids] + 0.1 * torch.randn(400, 2, generator=g)
    found, inertia = kmeans(x, 4, nredo=5, seed=0)
    order = torch.cdist(found, centres).argmin(0)
    assert torch.allclose(found[order], centres, atol=0.05)
    labels, _ = assign_to_centroids(x, found)
    assert (order[ids] == labels).all()
    # restarts draw one after the other from the seed's generator: the
    # best of 5 is the lowest of the 5 single runs drawn the same way
    blobs = torch.rand(600, 2, generator=g)
    best = kmeans(blobs, 12, niter=3, nredo=5, seed=7)[1]
    g7 = torch.Generator().manual_seed(7)
    single = [
        kmeans(blobs, 12, niter=3, nredo=1, generator=g7)[1] for _ in range(5)
    ]
    assert len(set(single)) > 1
    assert best == min(single)
    with pytest.raises(ValueError, match='num_clusters=5 clusters from 4'):
        kmeans(x[:4], 5)


def test_deterministic_for_fixed_seeds():
    gt = _random_labels()
    g = torch.Generator().manual_seed(2)
    # overlapping blobs: the result depends on the draws
    feats = _blob_features(
        gt, sep=1.0, noise=1.0) + 0.5 * torch.randn(
            6, 16, 8, 8, generator=g)
    a = _evaluate(feats, gt, seeds=(0, 1, 2), max_points_per_cluster=32)
    b = _evaluate(feats, gt, seeds=(0, 1, 2), max_points_per_cluster=32)
    assert a['_metric'].last_mappings == b['_metric'].last_mappings
    a.pop('_metric'), b.pop('_metric')
    assert a == b
    assert 0 < a['mIoU'] < 100 and a['mIoU_std'] > 0


def test_cluster_maps_and_labels_meet_at_eval_size():
    """4x4 features, 16x16 labels: both are resized (nearest) to 8x8."""
    g = torch.Generator().manual_seed(0)
    coarse = torch.randint(4, (3, 4, 4), generator=g)
    gt = coarse.repeat_interleave(4, 1).repeat_interleave(4, 2)
    out = _evaluate(_blob_features(coarse), gt, eval_size=8)
    assert out['mIoU'] == 100.0
    assert tuple(out['_metric'].results[0][1].shape) == (8, 8)


def test_fit_subsampling_is_capped():
    gt = _random_labels()
    metric = DenseClusterMetric(
        pca_dim=4, max_fit_pixels=100, max_points_per_cluster=None)
    x = _blob_features(gt).permute(0, 2, 3, 1).reshape(-1, 16)
    labels, _, fit_size = metric._cluster(x, 4, seed=0)
    assert fit_size == 100 and labels.shape == (x.shape[0], )
    metric = DenseClusterMetric(max_points_per_cluster=10)
    assert metric._cluster(x, 4, seed=0)[2] == 40


@pytest.mark.parametrize('kwargs, match',
                         [(dict(matching='greedy'), 'matching'),
                          (dict(seeds=()), 'seeds'),
                          (dict(eval_size=(8, )), 'eval_size'),
                          (dict(pca_dim=0), 'pca_dim'),
                          (dict(num_clusters=0), 'num_clusters'),
                          (dict(nredo=0), 'nredo'),
                          (dict(feature_field=''), 'feature_field')])
def test_bad_arguments_name_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DenseClusterMetric(**kwargs)


def test_missing_or_malformed_features_name_the_field():
    metric = DenseClusterMetric(feature_field='feats')
    gt = dict(data=torch.zeros(1, 4, 4))
    with pytest.raises(KeyError, match="'feats'"):
        metric.process({}, [dict(gt_sem_seg=gt)])
    with pytest.raises(ValueError, match=r'feats must hold one \(C, h, w\)'):
        metric.process(
            {}, [dict(feats=dict(data=torch.zeros(4, 4)), gt_sem_seg=gt)])
