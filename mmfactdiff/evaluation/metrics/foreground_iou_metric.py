# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log

from mmfactdiff.registry import METRICS
from ..functional import (fg_assignment, foreground_scores_from_confusion,
                          region_confusion)
from .label_maps import label_map


@METRICS.register_module()
class ForegroundIoUMetric(BaseMetric):
    """Foreground / background Acc, IoU and DICE (Flowers, CUB).

    Each image is scored on its own and the per-image scores are averaged
    over the split. The ground-truth foreground is every pixel whose label
    is ``> 0`` and not ``ignore_index``; ``ignore_index`` pixels (e.g.
    padding) are left out of every count. Images with no valid pixel are
    skipped. Scores are reported in **percent**, rounded to two decimals, as
    mmseg's ``IoUMetric`` does.

    Two rules say which predicted regions form the foreground P:

    - ``fg_rule='polarity'`` (default; IEM / ReDO protocol, label-free):
      predictions must be binary (region ids 0 and 1) and region 1 is P.
      Per image, every metric is computed for P and for not-P and the better
      value is kept, separately for each metric. Output keys: ``Acc``,
      ``IoU``, ``DICE``; comparable with the IEM / ReDO tables.
    - ``fg_rule='dataset_majority'`` (K >= 2, **uses GT labels**): the
      ``(K, 2)`` region confusion is accumulated over the whole split and a
      region is assigned to the foreground when most of its pixels are GT
      foreground; this single assignment is then applied to every image
      with NO polarity flip. Because the assignment reads the labels, the
      keys carry a suffix: ``Acc_dataset_majority``, ``IoU_dataset_majority``,
      ``DICE_dataset_majority``, so they never share a column with the
      label-free protocol.

    Args:
        fg_rule (str): ``'polarity'`` or ``'dataset_majority'``, see above.
            Defaults to ``'polarity'``.
        ignore_index (int): GT value excluded from evaluation.
            Defaults to 255.
        collect_device (str): Device used to collect results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix added to the output keys, e.g.
            ``'fg'`` gives ``'fg/IoU'``. Defaults to None.
    """

    FG_RULES = ('polarity', 'dataset_majority')
    PROTOCOLS = {
        'polarity':
        'foreground Acc/IoU/DICE, IEM/ReDO per-image polarity rule '
        '(region 1 = foreground, best of P and not-P per image and per '
        'metric, label-free)',
        'dataset_majority':
        'foreground Acc/IoU/DICE, regions assigned to fg/bg once on the '
        'whole split by majority of GT pixels (USES GT LABELS), no '
        'polarity flip',
    }
    KEY_SUFFIX = {'polarity': '', 'dataset_majority': '_dataset_majority'}

    def __init__(self,
                 fg_rule: str = 'polarity',
                 ignore_index: int = 255,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if fg_rule not in self.FG_RULES:
            raise ValueError(f'fg_rule must be one of {self.FG_RULES}, got '
                             f'{fg_rule!r}')
        self.fg_rule = fg_rule
        self.ignore_index = ignore_index

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store one ``(K, 2)`` region x {GT bg, GT fg} count per image.

        Counts rather than scores are kept so that ``dataset_majority`` can
        choose the foreground regions after the whole split is seen.

        Args:
            data_batch (dict): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Outputs of the model, each with
                ``pred_sem_seg.data`` (region ids, ``(1, H, W)``) and
                ``gt_sem_seg.data`` (labels, ``(1, H, W)``).
        """
        for data_sample in data_samples:
            pred, gt = self._read_maps(data_sample)
            self.results.append(self._region_counts(pred, gt, gt > 0))

    def _read_maps(self, data_sample: dict) -> Tuple[np.ndarray, np.ndarray]:
        """Region ids (int64) and labels of a sample, checked: same shape,
        and binary predictions under the polarity rule."""
        pred = label_map(data_sample['pred_sem_seg'],
                         'pred_sem_seg').astype(np.int64)
        gt = label_map(data_sample['gt_sem_seg'], 'gt_sem_seg')
        if pred.shape != gt.shape:
            raise ValueError(f'pred_sem_seg {pred.shape} and gt_sem_seg '
                             f'{gt.shape} differ in shape')
        max_id = int(pred.max()) if pred.size else 0
        if self.fg_rule == 'polarity' and max_id > 1:
            raise ValueError(
                "fg_rule='polarity' needs binary predictions (region ids "
                f'0 and 1), got region id {max_id}; use '
                "fg_rule='dataset_majority' for K > 2")
        return pred, gt

    def _region_counts(self, pred: np.ndarray, gt: np.ndarray,
                       fg: np.ndarray) -> np.ndarray:
        """``(K, 2)`` region x {GT bg, GT fg} pixel counts, ``fg`` the GT
        foreground, pixels at ``ignore_index`` left out."""
        # -1 marks ignored pixels so that any ignore_index value works.
        gt_fg = np.where(gt == self.ignore_index, -1, fg.astype(np.int64))
        max_id = int(pred.max()) if pred.size else 0
        return region_confusion(
            pred, gt_fg, max(2, max_id + 1), 2, ignore_index=-1)

    def compute_metrics(self, results: List[np.ndarray]) -> Dict[str, float]:
        """Average the per-image scores over the split.

        Args:
            results (list[np.ndarray]): The ``(K_i, 2)`` counts of every
                image, gathered from all ranks.

        Returns:
            dict[str, float]: Acc, IoU and DICE in percent (keys suffixed
            ``_dataset_majority`` under that rule).
        """
        logger: MMLogger = MMLogger.get_current_instance()
        print_log(f'protocol: {self.PROTOCOLS[self.fg_rule]}', logger=logger)
        # Images may have seen different max region ids: pad with empty rows.
        num_regions = max([2] + [conf.shape[0] for conf in results])
        padded = [
            np.pad(conf, ((0, num_regions - conf.shape[0]), (0, 0)))
            for conf in results
        ]
        if self.fg_rule == 'polarity':
            fg_regions = np.array([False, True])
            polarity = True
        else:
            total = sum(padded, np.zeros((num_regions, 2), dtype=np.int64))
            fg_regions = fg_assignment(total)
            polarity = False
            print_log(
                'foreground regions chosen with GT labels on this split: '
                f'{np.flatnonzero(fg_regions).tolist()} of {num_regions}',
                logger=logger)

        scores = [
            foreground_scores_from_confusion(conf, fg_regions, polarity)
            for conf in padded
        ]
        scored = [s for s in scores if not np.isnan(s['acc'])]
        if len(scored) < len(scores):
            print_log(
                f'{len(scores) - len(scored)} image(s) without any valid '
                'pixel were skipped',
                logger=logger)
        suffix = self.KEY_SUFFIX[self.fg_rule]
        metrics = {}
        for key, name in (('acc', 'Acc'), ('iou', 'IoU'), ('dice', 'DICE')):
            values = [s[key] for s in scored]
            mean = float(np.mean(values)) if values else float('nan')
            metrics[name + suffix] = round(mean * 100, 2)
        summary = ', '.join(f'{k}={v:.2f}' for k, v in metrics.items())
        print_log(f'{len(scored)} images: {summary}', logger=logger)
        return metrics
