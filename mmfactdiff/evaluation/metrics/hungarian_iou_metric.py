# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from prettytable import PrettyTable

from mmfactdiff.registry import METRICS
from ..functional import (hungarian_match, mapped_confusion, matched_scores,
                          region_confusion)
from .label_maps import label_map


@METRICS.register_module()
class HungarianIoUMetric(BaseMetric):
    """Multi-class mIoU of unnamed regions after Hungarian matching.

    Predicted regions (ids ``0..K-1``) have no class names, so each region is
    matched to a GT class before mIoU is computed. Label ``ignore_index`` is
    left out. Scores are in **percent**, rounded to two decimals, like
    mmseg's ``IoUMetric``; a per-class table (IoU, Acc and, for dataset
    matching, the regions matched to the class) is logged.

    - ``matching='dataset'`` (default; variant 1 of evaluation.md, Leopart):
      a ``K x C`` confusion matrix is accumulated over the whole split and
      ONE one-to-one assignment maximising the summed IoU is computed with
      ``scipy.optimize.linear_sum_assignment`` on ``1 - IoU``. Regions left
      without a class (K > C) count as ``unmatched_class`` (background).
      Output keys: ``mIoU``, ``aAcc``, ``mAcc``.
    - ``matching='per_image'`` (DiffSeg style, more generous): the same
      assignment is solved on each image's own confusion matrix, the
      matched ``C x C`` confusions are summed over the split and the scores
      computed from that sum. Output keys: ``mIoU_per_image_matching``,
      ``aAcc_per_image_matching``, ``mAcc_per_image_matching``, so these
      numbers never sit in the same column as dataset-level ones.

    Args:
        num_regions (int, optional): K. If None, it is inferred per sample
            from the channel count of ``seg_logits`` when the sample has
            them (one channel means a sigmoid head, i.e. K = 2), otherwise
            from the largest predicted region id + 1; the split's K is the
            largest value seen, and regions that never occur are empty rows
            of the confusion matrix (they are matched with IoU 0 and change
            no score). Defaults to None.
        matching (str): ``'dataset'`` or ``'per_image'``, see above.
            Defaults to ``'dataset'``.
        ignore_index (int): GT value excluded from evaluation.
            Defaults to 255.
        unmatched_class (int): Class given to regions that the one-to-one
            assignment leaves without a partner. Defaults to 0
            (background).
        collect_device (str): Device used to collect results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix added to the output keys, e.g.
            ``'hungarian'`` gives ``'hungarian/mIoU'``. Defaults to None.
    """

    MATCHINGS = ('dataset', 'per_image')
    PROTOCOLS = {
        'dataset':
        'Hungarian-matched mIoU, dataset-level one-to-one matching '
        'maximising IoU (Leopart, evaluation.md variant 1); unmatched '
        'regions count as class {unmatched}',
        'per_image':
        'Hungarian-matched mIoU, PER-IMAGE one-to-one matching maximising '
        'IoU (DiffSeg style, more generous; not comparable with '
        'dataset-level matching); unmatched regions count as class '
        '{unmatched}',
    }
    KEY_SUFFIX = {'dataset': '', 'per_image': '_per_image_matching'}

    def __init__(self,
                 num_regions: Optional[int] = None,
                 matching: str = 'dataset',
                 ignore_index: int = 255,
                 unmatched_class: int = 0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if matching not in self.MATCHINGS:
            raise ValueError(f'matching must be one of {self.MATCHINGS}, got '
                             f'{matching!r}')
        if num_regions is not None and num_regions < 1:
            raise ValueError(f'num_regions must be >= 1, got {num_regions}')
        self.num_regions = num_regions
        self.matching = matching
        self.ignore_index = ignore_index
        self.unmatched_class = unmatched_class

    def _num_classes(self) -> int:
        if not self.dataset_meta or 'classes' not in self.dataset_meta:
            raise RuntimeError(
                'HungarianIoUMetric needs dataset_meta["classes"]; the '
                'runner sets it from the dataset, tests must set it')
        return len(self.dataset_meta['classes'])

    def _regions_of(self, data_sample: dict, pred: np.ndarray) -> int:
        """K for one sample (see ``num_regions`` in the class docstring)."""
        if self.num_regions is not None:
            return self.num_regions
        if 'seg_logits' in data_sample:
            channels = np.shape(data_sample['seg_logits']['data'])[0]
            # mmseg thresholds a single sigmoid channel into ids {0, 1}.
            return max(channels, 2)
        return int(pred.max()) + 1 if pred.size else 1

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store each image's ``(K, C)`` region confusion matrix.

        Args:
            data_batch (dict): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Outputs of the model, each with
                ``pred_sem_seg.data`` (region ids, ``(1, H, W)``),
                ``gt_sem_seg.data`` (class ids, ``(1, H, W)``) and
                optionally ``seg_logits.data`` (``(K, H, W)``).
        """
        num_classes = self._num_classes()
        for data_sample in data_samples:
            pred = label_map(data_sample['pred_sem_seg'], 'pred_sem_seg')
            gt = label_map(data_sample['gt_sem_seg'], 'gt_sem_seg')
            pred = pred.astype(np.int64)
            num_regions = self._regions_of(data_sample, pred)
            self.results.append(
                region_confusion(pred, gt, num_regions, num_classes,
                                 self.ignore_index))

    def compute_metrics(self, results: List[np.ndarray]) -> Dict[str, float]:
        """Match regions to classes and compute the scores.

        Args:
            results (list[np.ndarray]): The ``(K_i, C)`` confusion matrices
                of every image, gathered from all ranks.

        Returns:
            dict[str, float]: ``mIoU``, ``aAcc``, ``mAcc`` in percent (keys
            suffixed ``_per_image_matching`` under per-image matching).
        """
        logger: MMLogger = MMLogger.get_current_instance()
        print_log(
            'protocol: ' + self.PROTOCOLS[self.matching].format(
                unmatched=self.unmatched_class),
            logger=logger)
        class_names = list(self.dataset_meta['classes'])
        num_classes = len(class_names)
        num_regions = max([1] + [conf.shape[0] for conf in results])
        padded = [
            np.pad(conf, ((0, num_regions - conf.shape[0]), (0, 0)))
            for conf in results
        ]
        regions_per_class = None
        if self.matching == 'dataset':
            total = sum(padded,
                        np.zeros((num_regions, num_classes), dtype=np.int64))
            mapping = hungarian_match(total, self.unmatched_class)
            scores = matched_scores(total, mapping)
            regions_per_class = [[k for k, c in mapping.items() if c == cls]
                                 for cls in range(num_classes)]
            print_log(
                f'region -> class mapping (K={num_regions}): {mapping}',
                logger=logger)
        else:
            merged = np.zeros((num_classes, num_classes), dtype=np.int64)
            for conf in padded:
                merged += mapped_confusion(
                    conf, hungarian_match(conf, self.unmatched_class))
            # The sum is already indexed by class: score it as is.
            scores = matched_scores(merged, {c: c for c in range(num_classes)})

        table = PrettyTable()
        table.add_column('Class', class_names)
        table.add_column('IoU', [round(v * 100, 2) for v in scores['IoU']])
        table.add_column('Acc', [round(v * 100, 2) for v in scores['Acc']])
        if regions_per_class is not None:
            table.add_column('Regions', [str(r) for r in regions_per_class])
        print_log('per class results:', logger=logger)
        print_log('\n' + table.get_string(), logger=logger)

        suffix = self.KEY_SUFFIX[self.matching]
        return {
            key + suffix: round(scores[key] * 100, 2)
            for key in ('aAcc', 'mIoU', 'mAcc')
        }
