# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Leopart's evaluation protocol (Ziegler and Asano, CVPR 2022) for the
dense features of any backbone: :class:`DenseFeatureExtractor` puts a
frozen backbone's feature maps into the test outputs, and
:class:`DenseClusterMetric` z-normalises them over the split, reduces them
by PCA, clusters them with k-means over several seeds and scores the
clusters after Hungarian (label-free apart from naming) or many-to-one
(label-using) matching, optionally after merging an over-clustering into
co-occurrence communities with Infomap (:func:`merge_communities`)."""
from .community_merging import infomap_communities, merge_communities
from .cooccurrence import community_edges, cooccurrence_matrix
from .dense_cluster_metric import DenseClusterMetric
from .dense_clustering import (assign_to_centroids, kmeans, pca_project,
                               znormalize)
from .dense_feature_extractor import DenseFeatureExtractor
from .many_to_one_match import many_to_one_match

__all__ = [
    'DenseClusterMetric', 'DenseFeatureExtractor', 'assign_to_centroids',
    'community_edges', 'cooccurrence_matrix', 'infomap_communities', 'kmeans',
    'many_to_one_match', 'merge_communities', 'pca_project', 'znormalize'
]
