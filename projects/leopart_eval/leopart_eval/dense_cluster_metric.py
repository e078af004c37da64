# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Leopart's clustering evaluation of dense features, as an mmengine
metric."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from prettytable import PrettyTable
from torch import Tensor

from mmfactdiff.evaluation.functional import (hungarian_match, matched_scores,
                                              region_confusion)
from mmfactdiff.evaluation.metrics.label_maps import label_map
from mmfactdiff.registry import METRICS
from .community_merging import check_community_option, community_merged_scores
from .dense_clustering import (assign_to_centroids, kmeans, pca_project,
                               znormalize)
from .many_to_one_match import many_to_one_match

EvalSize = Optional[Union[int, Sequence[int]]]


@METRICS.register_module()
class DenseClusterMetric(BaseMetric):
    """Cluster a split's dense features and score the clusters (Leopart).

    The evaluation protocol of Leopart (Ziegler and Asano, CVPR 2022;
    ``experiments/overcluster/sup_overcluster.py`` and
    ``experiments/utils.py`` of the official code) for the dense features
    of ANY model:

    1. :meth:`process` keeps, per image, the feature map the model put in
       the data sample field ``feature_field`` (``(C, h, w)``, e.g. from
       :class:`DenseFeatureExtractor`, which runs any mmseg backbone) and
       the GT labels resized (nearest) to ``eval_size`` (the official
       evaluates masks at 100 x 100).
    2. :meth:`compute_metrics` stacks the feature vectors of every
       location of every image, z-normalises each channel over the whole
       split, projects on the top ``pca_dim`` principal components, and,
       for every seed in ``seeds``, runs k-means with ``num_clusters``
       clusters (k-means++ seeding, ``niter`` Lloyd iterations, the best
       of ``nredo`` runs by inertia) fitted on at most
       ``min(max_fit_pixels, num_clusters * max_points_per_cluster)``
       vectors drawn without replacement (the draw depends on the seed),
       then assigns EVERY location to its nearest centroid.
    3. Each image's cluster map is resized (nearest) from the feature
       resolution to its GT's ``eval_size`` and the ``(K, C)``
       cluster-class confusion matrix of the split is counted, leaving out
       GT pixels equal to ``ignore_index``.
    4. Clusters are matched to classes and the mIoU of each seed computed
       (:func:`mmfactdiff.evaluation.functional.matched_scores`); mean and
       population std over seeds are reported.

    Matchings (``matching``):

    - ``'hungarian'``: one-to-one assignment maximising the summed IoU
      (:func:`mmfactdiff.evaluation.functional.hungarian_match`,
      ``scipy.optimize.linear_sum_assignment`` on ``1 - IoU``; clusters
      left over count as ``unmatched_class``, as the official merges them
      into background). The labels only name one cluster per class: with
      ``num_clusters == num_classes`` this is Leopart's K = 21 number.
      Keys: ``mIoU``, ``mIoU_std``, ``aAcc``, ``mAcc``.
    - ``'many_to_one'``: every cluster goes to the class it is most
      precise for (:func:`many_to_one_match`), Leopart's K = 500
      over-clustering number. It USES THE LABELS to merge clusters, so its
      keys carry the ``overcluster_`` prefix and never share a column with
      the Hungarian ones: ``overcluster_mIoU``, ``overcluster_mIoU_std``,
      ``overcluster_aAcc``, ``overcluster_mAcc``.
    - ``'auto'`` (default): the official rule, ``'hungarian'`` when
      ``num_clusters == num_classes`` and ``'many_to_one'`` otherwise.
    - ``'both'``: both, on the same clusterings.

    ``community`` (off by default) adds Leopart's community-detection
    merging (:mod:`.community_merging`): one more k-means at
    ``community['k']`` clusters on the same features, clusters merged by
    Infomap on their co-occurrence graph, the merged maps Hungarian-matched
    for ``num_runs`` Infomap seeds. Keys: ``community_mIoU``,
    ``community_mIoU_std``, ``community_aAcc``, ``community_mAcc``,
    ``community_num_communities`` (means over runs). No label is read, but
    the hyperparameters are the user's: Leopart tuned them on train mIoU,
    and a number from label-tuned ones is label-using.

    Scores are in percent, rounded to two decimals. With the default
    ``prefix`` keys read ``dense_cluster/mIoU`` etc., so this metric can
    sit beside mmseg's ``IoUMetric`` or :class:`HungarianIoUMetric`.

    What differs from the official code: k-means is this module's torch
    k-means with k-means++ seeding (faiss seeds with random points, so the
    same seed gives other clusters); the IoU of a class that neither
    occurs nor is predicted is left out of the mean (mmseg's rule; the
    official counts it as 0, which changes nothing when every class
    occurs, as on VOC val). ``max_points_per_cluster=256`` is faiss'
    default training-set cap, which the official runs kept.

    Memory: the features of the whole split are held (``N x C`` floats for
    ``N`` feature locations, plus the same again while they are stacked,
    then ``N x pca_dim``); only the k-means fit is subsampled.

    Args:
        num_clusters (int, optional): K. None means the number of classes
            in ``dataset_meta`` (Leopart's K = 21 on VOC); the
            over-clustering protocol sets it larger (500 on VOC).
            Defaults to None.
        feature_field (str): Data sample field that holds each image's
            features as ``PixelData`` (or a ``(C, h, w)`` tensor).
            :class:`DenseFeatureExtractor` writes them to ``seg_logits``.
            Defaults to ``'seg_logits'``.
        eval_size (int | tuple[int, int], optional): Size ``(h, w)`` (an
            int means square) to which GT labels and cluster maps are
            resized (nearest) before counting. None scores at each GT's
            own size. Defaults to 100 (the official).
        pca_dim (int, optional): Principal components kept; at most the
            feature width. None skips PCA. Defaults to 50.
        seeds (Sequence[int]): k-means seeds; one clustering and one score
            per seed. Defaults to (0, 1, 2, 3, 4).
        niter (int): Lloyd iterations per k-means run. Defaults to 100
            (the official evaluation's ``cluster()``).
        nredo (int): k-means runs per seed, the lowest inertia kept.
            Defaults to 5.
        matching (str): ``'auto'``, ``'hungarian'``, ``'many_to_one'`` or
            ``'both'`` (see above). Defaults to ``'auto'``.
        max_fit_pixels (int, optional): Most feature vectors k-means is
            fitted on (bounds its time and memory); None for no cap.
            Defaults to 1,000,000.
        max_points_per_cluster (int, optional): Caps the fit set at
            ``num_clusters`` times this (faiss' ``max_points_per_centroid``,
            256 by default, which the official runs kept); None for no
            cap. Defaults to 256.
        ignore_index (int): GT value left out of every count.
            Defaults to 255.
        unmatched_class (int): Class of the clusters the Hungarian matching
            leaves without a partner. Defaults to 0 (background).
        compute_device (str): Device of the normalisation, PCA and k-means,
            e.g. ``'cuda'``. Defaults to ``'cpu'``.
        collect_device (str): Device used to collect results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the output keys. None means
            ``'dense_cluster'``. Defaults to None.
        community (dict, optional): Community-detection merging, e.g.
            ``dict(k=149, weight_threshold=0.05, markov_time=1.0,
            num_runs=10)`` (fields:
            :func:`.community_merging.check_community_option`). None
            (default) turns it off.
    """

    default_prefix = 'dense_cluster'
    MATCHINGS = ('auto', 'hungarian', 'many_to_one', 'both')
    KEY_PREFIX = {
        'hungarian': '',
        'many_to_one': 'overcluster_',
        'community': 'community_'
    }
    PROTOCOLS = {
        'hungarian':
        'Leopart clustering, Hungarian-matched mIoU (one-to-one, maximising '
        'IoU; the labels only name one cluster per class; unmatched '
        'clusters count as class {unmatched})',
        'many_to_one':
        'Leopart over-clustering, many-to-one matched mIoU: each cluster '
        'goes to its most precise class. USES GT LABELS to merge clusters; '
        'not a label-free number',
        'community':
        'Leopart community merging: k-means at k={k}, clusters merged by '
        'Infomap on their co-occurrence graph (weight_threshold '
        '{weight_threshold}, markov_time {markov_time}), merged maps '
        'Hungarian-matched, {num_runs} Infomap seeds. Label-free only if k, '
        'weight_threshold and markov_time were chosen without labels '
        '(Leopart tuned them on train mIoU: label-using)',
    }

    def __init__(self,
                 num_clusters: Optional[int] = None,
                 feature_field: str = 'seg_logits',
                 eval_size: EvalSize = 100,
                 pca_dim: Optional[int] = 50,
                 seeds: Sequence[int] = (0, 1, 2, 3, 4),
                 niter: int = 100,
                 nredo: int = 5,
                 matching: str = 'auto',
                 max_fit_pixels: Optional[int] = 1_000_000,
                 max_points_per_cluster: Optional[int] = 256,
                 ignore_index: int = 255,
                 unmatched_class: int = 0,
                 compute_device: str = 'cpu',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 community: Optional[dict] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_clusters = self._optional_positive('num_clusters',
                                                    num_clusters)
        if not isinstance(feature_field, str) or not feature_field:
            raise ValueError('feature_field must name a data sample field, '
                             f'got {feature_field!r}')
        self.feature_field = feature_field
        self.eval_size = self._eval_size(eval_size)
        self.pca_dim = self._optional_positive('pca_dim', pca_dim)
        if isinstance(seeds, (int, str)) or not seeds or not all(
                isinstance(s, int) and not isinstance(s, bool) and s >= 0
                for s in seeds):
            raise ValueError('seeds must be a non-empty sequence of '
                             f'non-negative ints, got {seeds!r}')
        self.seeds = tuple(int(s) for s in seeds)
        self.niter = self._positive('niter', niter)
        self.nredo = self._positive('nredo', nredo)
        if matching not in self.MATCHINGS:
            raise ValueError(f'matching must be one of {self.MATCHINGS}, got '
                             f'{matching!r}')
        self.matching = matching
        self.max_fit_pixels = self._optional_positive('max_fit_pixels',
                                                      max_fit_pixels)
        self.max_points_per_cluster = self._optional_positive(
            'max_points_per_cluster', max_points_per_cluster)
        self.ignore_index = ignore_index
        self.unmatched_class = unmatched_class
        device = torch.device(compute_device)
        if device.type == 'cuda' and not torch.cuda.is_available():
            raise ValueError(f'compute_device={compute_device!r} but CUDA is '
                             "not available: use compute_device='cpu'")
        self.compute_device = device
        self.community = None if community is None else \
            check_community_option(community)
        # mappings of the last evaluation, {matching: [mapping per seed]},
        # for inspection and tests
        self.last_mappings: Dict[str, List[Dict[int, int]]] = {}
        # cluster -> community of each Infomap run of the last evaluation
        self.last_communities: List[Dict[int, int]] = []

    @staticmethod
    def _positive(name: str, value) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f'{name} must be a positive int, got {value!r}')
        return int(value)

    @classmethod
    def _optional_positive(cls, name: str, value) -> Optional[int]:
        return None if value is None else cls._positive(name, value)

    @classmethod
    def _eval_size(cls, size: EvalSize) -> Optional[Tuple[int, int]]:
        if size is None:
            return None
        if isinstance(size, int) and not isinstance(size, bool):
            size = (size, size)
        if (not isinstance(size, (tuple, list)) or len(size) != 2):
            raise ValueError('eval_size must be an int, an (h, w) pair or '
                             f'None, got {size!r}')
        return tuple(cls._positive('eval_size', s) for s in size)

    def _num_classes(self) -> int:
        if not self.dataset_meta or 'classes' not in self.dataset_meta:
            raise RuntimeError(
                'DenseClusterMetric needs dataset_meta["classes"]; the '
                'runner sets it from the dataset, tests must set it')
        return len(self.dataset_meta['classes'])

    def _features(self, data_sample: dict) -> Tensor:
        """The ``(C, h, w)`` float32 CPU features of one sample."""
        if self.feature_field not in data_sample:
            raise KeyError(
                f'data sample has no {self.feature_field!r} (fields: '
                f'{sorted(data_sample)}): the model must write each '
                "image's (C, h, w) features there (DenseFeatureExtractor "
                'writes seg_logits), or set feature_field')
        field = data_sample[self.feature_field]
        data = field['data'] if isinstance(field, dict) else \
            getattr(field, 'data', field)
        if not torch.is_tensor(data):
            data = torch.as_tensor(np.asarray(data))
        if data.dim() != 3:
            raise ValueError(f'{self.feature_field} must hold one (C, h, w) '
                             f'feature map per image, got {tuple(data.shape)}')
        data = data.detach().to('cpu', torch.float32)
        if not torch.isfinite(data).all():
            raise ValueError(f'{self.feature_field} holds NaN or inf values')
        return data

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep each image's features and its GT at ``eval_size``.

        Args:
            data_batch (dict): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Outputs of the model, each with
                the features in ``feature_field`` (``(C, h, w)``) and
                ``gt_sem_seg.data`` (class ids, ``(1, H, W)``).
        """
        for data_sample in data_samples:
            feats = self._features(data_sample)
            gt = torch.from_numpy(
                label_map(data_sample['gt_sem_seg'],
                          'gt_sem_seg').astype(np.int64))
            if self.eval_size is not None and \
                    tuple(gt.shape) != self.eval_size:
                gt = F.interpolate(
                    gt[None, None].double(),
                    size=self.eval_size,
                    mode='nearest')[0, 0].long()
            self.results.append((feats, gt.to(torch.int32)))

    def _matchings(self, num_clusters: int, num_classes: int) -> List[str]:
        if self.matching == 'both':
            return ['hungarian', 'many_to_one']
        if self.matching == 'auto':
            return [
                'hungarian' if num_clusters == num_classes else 'many_to_one'
            ]
        return [self.matching]

    def _stack(self, feats: List[Tensor]) -> Tensor:
        """All feature vectors as one ``(N, C)`` matrix, image by image in
        row-major order."""
        widths = {f.shape[0] for f in feats}
        if len(widths) != 1:
            raise ValueError(f'{self.feature_field} has different widths C '
                             f'across images: {sorted(widths)}')
        total = sum(f.shape[1] * f.shape[2] for f in feats)
        x = torch.empty(
            total,
            widths.pop(),
            dtype=torch.float32,
            device=self.compute_device)
        start = 0
        for f in feats:
            n = f.shape[1] * f.shape[2]
            x[start:start + n] = f.flatten(1).T
            start += n
        return x

    def _cluster(self, x: Tensor, num_clusters: int,
                 seed: int) -> Tuple[Tensor, float, int]:
        """One seed's k-means: fit on a seeded draw, assign every row."""
        fit_size = x.shape[0]
        for cap in (self.max_fit_pixels, None if self.max_points_per_cluster
                    is None else num_clusters * self.max_points_per_cluster):
            if cap is not None:
                fit_size = min(fit_size, cap)
        generator = torch.Generator().manual_seed(seed)
        fit = x
        if fit_size < x.shape[0]:
            rows = torch.randperm(x.shape[0], generator=generator)[:fit_size]
            fit = x[rows.to(x.device)]
        centroids, inertia = kmeans(
            fit,
            num_clusters,
            niter=self.niter,
            nredo=self.nredo,
            generator=generator)
        labels, _ = assign_to_centroids(x, centroids)
        return labels.cpu(), inertia, fit_size

    def _confusion(self, labels: Tensor, results: list, num_clusters: int,
                   num_classes: int) -> np.ndarray:
        """The split's ``(K, C)`` confusion, each cluster map resized
        (nearest) from its feature resolution to its GT's size."""
        confusion = np.zeros((num_clusters, num_classes), dtype=np.int64)
        for ids, (_, gt) in zip(self._cluster_maps(labels, results), results):
            confusion += region_confusion(ids, gt.numpy(), num_clusters,
                                          num_classes, self.ignore_index)
        return confusion

    @staticmethod
    def _cluster_maps(labels: Tensor, results: list) -> List[np.ndarray]:
        """Each image's cluster map, resized (nearest) to its GT's size."""
        maps, start = [], 0
        for feats, gt in results:
            h, w = feats.shape[1:]
            ids = labels[start:start + h * w].view(1, 1, h, w)
            start += h * w
            if (h, w) != tuple(gt.shape):
                ids = F.interpolate(
                    ids.double(), size=tuple(gt.shape), mode='nearest').long()
            maps.append(ids[0, 0].numpy())
        return maps

    def _community(self, x: Tensor, results: list, num_classes: int,
                   logger: MMLogger) -> Tuple[List[dict], List[dict]]:
        """Over-cluster at ``community['k']``, merge, score per run."""
        opt = self.community
        print_log(
            'protocol: ' + self.PROTOCOLS['community'].format(**opt),
            logger=logger)
        labels, inertia, fit_size = self._cluster(x, opt['k'],
                                                  opt['kmeans_seed'])
        print_log(
            f'community: k-means k={opt["k"]} seed {opt["kmeans_seed"]} '
            f'fit on {fit_size} vectors, inertia {inertia:.4g}',
            logger=logger)
        # the official prefers its number of object classes: its background
        # is one masked-out node. Here background is clustered too
        preferred = opt['preferred_number_of_modules'] or num_classes
        scores, mappings, self.last_communities = community_merged_scores(
            self._cluster_maps(labels, results),
            [gt.numpy() for _, gt in results],
            opt['k'],
            num_classes,
            opt['weight_threshold'],
            opt['markov_time'],
            seeds=range(1, opt['num_runs'] + 1),
            preferred_number_of_modules=preferred,
            ignore_index=self.ignore_index,
            unmatched_class=self.unmatched_class,
            log=lambda line: print_log(line, logger=logger))
        return scores, mappings

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Normalise, reduce, cluster for every seed, match and score.

        Args:
            results (list): ``(features, gt)`` of every image, gathered
                from all ranks.

        Returns:
            dict[str, float]: Mean and std over seeds, in percent (keys:
            see the class docstring).
        """
        logger: MMLogger = MMLogger.get_current_instance()
        num_classes = self._num_classes()
        num_clusters = self.num_clusters or num_classes
        if not results:
            raise ValueError('DenseClusterMetric got no images to evaluate')
        matchings = self._matchings(num_clusters, num_classes)
        for m in matchings:
            print_log(
                'protocol: ' +
                self.PROTOCOLS[m].format(unmatched=self.unmatched_class),
                logger=logger)

        x = self._stack([feats for feats, _ in results])
        width = x.shape[1]
        if self.pca_dim is not None and self.pca_dim > width:
            raise ValueError(
                f'pca_dim={self.pca_dim} is larger than the width C={width} '
                f'of the features in {self.feature_field!r}: set the '
                f"metric's pca_dim <= {width}, or pca_dim=None to skip PCA")
        znormalize(x)
        if self.pca_dim is not None:
            x = pca_project(x, self.pca_dim)
        ignored = sum(
            int((gt == self.ignore_index).sum()) for _, gt in results)
        print_log(
            f'{len(results)} images, {x.shape[0]} feature vectors of width '
            f'{width} (PCA to {self.pca_dim}), K={num_clusters} clusters, '
            f'C={num_classes} classes, {ignored} GT pixels ignored',
            logger=logger)

        per_seed = {m: [] for m in matchings}
        self.last_mappings = {m: [] for m in matchings}
        for seed in self.seeds:
            labels, inertia, fit_size = self._cluster(x, num_clusters, seed)
            confusion = self._confusion(labels, results, num_clusters,
                                        num_classes)
            line = [
                f'seed {seed}: k-means fit on {fit_size} vectors, '
                f'inertia {inertia:.4g}'
            ]
            for m in matchings:
                if m == 'hungarian':
                    mapping = hungarian_match(confusion, self.unmatched_class)
                else:
                    mapping = many_to_one_match(confusion)
                scores = matched_scores(confusion, mapping)
                per_seed[m].append(scores)
                self.last_mappings[m].append(mapping)
                line.append(f'{self.KEY_PREFIX[m]}mIoU '
                            f'{scores["mIoU"] * 100:.2f}')
            print_log(', '.join(line), logger=logger)
        if self.community is not None:
            matchings.append('community')
            per_seed['community'], self.last_mappings['community'] = \
                self._community(x, results, num_classes, logger)

        metrics = {}
        class_names = list(self.dataset_meta['classes'])
        table = PrettyTable()
        table.add_column('Class', class_names)
        for m in matchings:
            key = self.KEY_PREFIX[m]
            miou = np.array([s['mIoU'] for s in per_seed[m]]) * 100
            metrics[key + 'mIoU'] = round(float(miou.mean()), 2)
            metrics[key + 'mIoU_std'] = round(float(miou.std()), 2)
            for name in ('aAcc', 'mAcc'):
                values = np.array([s[name] for s in per_seed[m]]) * 100
                metrics[key + name] = round(float(values.mean()), 2)
            ious = np.stack([s['IoU'] for s in per_seed[m]]) * 100
            # a class that never occurs nor is predicted is NaN in a seed
            finite = np.isfinite(ious)
            counts = finite.sum(0)
            sums = np.where(finite, ious, 0).sum(0)
            mean_iou = np.where(counts > 0, sums / np.maximum(counts, 1),
                                np.nan)
            table.add_column(f'{key}IoU (mean over seeds)',
                             [round(float(v), 2) for v in mean_iou])
        if self.community is not None:
            counts = [s['num_communities'] for s in per_seed['community']]
            metrics['community_num_communities'] = round(
                float(np.mean(counts)), 2)
        print_log('per class results:', logger=logger)
        print_log('\n' + table.get_string(), logger=logger)
        return metrics
