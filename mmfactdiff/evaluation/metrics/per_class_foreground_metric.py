# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import MMLogger, print_log
from prettytable import PrettyTable

from mmfactdiff.registry import METRICS
from ..functional import fg_assignment, foreground_scores_from_confusion
from .foreground_iou_metric import ForegroundIoUMetric


@METRICS.register_module()
class PerClassForegroundMetric(ForegroundIoUMetric):
    """Foreground Acc / IoU / DICE per class of a multi-class dataset (VOC).

    Every sample is scored as a foreground / background problem (as
    :class:`ForegroundIoUMetric` does: per image, then averaged) and the
    scores are grouped by ground-truth class. Two protocols:

    - ``target_key=None`` (default; **per-class fg/bg**): the GT foreground
      is every object pixel (label ``> 0``, not ``ignore_index``), and an
      image is counted in the group of every object class it contains. The
      score of a class is the mean over its images. Output keys:
      ``mAcc_fg_per_class``, ``mIoU_fg_per_class``, ``mDICE_fg_per_class``
      (means over the classes that occur) and ``Acc_fg``, ``IoU_fg``,
      ``DICE_fg`` (mean over all images, so comparable with
      :class:`ForegroundIoUMetric` on the same split).
    - ``target_key='target_class'`` (**zero-shot**, paper Table 7): each
      sample names the class the model was conditioned on (metainfo set by
      :class:`VOCClassConditionedDataset`); the GT foreground is the pixels
      of that class only (other objects count as background) and the sample
      belongs to that class's group. Output keys: ``mAcc_zero_shot``,
      ``mIoU_zero_shot``, ``mDICE_zero_shot``.

    The ``protocol:`` line and a per-class table (Acc, IoU, DICE, number
    of samples, and the mean row), titled with the protocol, are logged.
    How the predicted foreground is chosen among the K regions
    (``fg_rule``):

    - ``'polarity'`` (default, K = 2, IEM / ReDO rule): region 1 is P and
      each metric keeps the better of P and not-P per sample.
    - ``'dataset_majority'`` (K >= 2, **uses GT labels**): the regions whose
      pixels are mostly GT foreground over the whole split form P for every
      sample, no flip. Keys get the suffix ``_dataset_majority``.

    Args:
        target_key (str, optional): Metainfo key of the target class id;
            None for the per-class fg/bg protocol. Defaults to None.
        fg_rule (str): ``'polarity'`` or ``'dataset_majority'``.
            Defaults to ``'polarity'``.
        ignore_index (int): GT value excluded from every count.
            Defaults to 255.
        collect_device (str): Device used to collect results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix added to the output keys.
            Defaults to None.
    """

    # FG_RULES and KEY_SUFFIX and the argument checks: ForegroundIoUMetric
    RULE_TEXT = {
        'polarity':
        'region 1 = foreground, best of P and not-P per sample and per '
        'metric (IEM/ReDO rule)',
        'dataset_majority':
        'foreground regions assigned once on the whole split by majority '
        'of GT pixels (USES GT LABELS), no polarity flip',
    }

    def __init__(self,
                 target_key: Optional[str] = None,
                 fg_rule: str = 'polarity',
                 ignore_index: int = 255,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(
            fg_rule=fg_rule,
            ignore_index=ignore_index,
            collect_device=collect_device,
            prefix=prefix)
        self.target_key = target_key

    @property
    def protocol(self) -> str:
        """One line naming the protocol, logged and used as table title."""
        if self.target_key is None:
            head = ('per-class foreground/background Acc/IoU/DICE (GT fg = '
                    'all object pixels; an image counts for every class it '
                    'contains)')
        else:
            head = ('zero-shot class-conditional per-class Acc/IoU/DICE '
                    '(GT fg = pixels of the conditioned class '
                    f'{self.target_key!r}; paper Table 7)')
        return f'{head}; {self.RULE_TEXT[self.fg_rule]}'

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store each sample's classes and ``(K, 2)`` region counts.

        Args:
            data_batch (dict): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Model outputs with
                ``pred_sem_seg``, ``gt_sem_seg`` and, for the zero-shot
                protocol, the ``target_key`` metainfo.
        """
        for data_sample in data_samples:
            pred, gt = self._read_maps(data_sample)
            valid = gt != self.ignore_index
            if self.target_key is None:
                classes: Tuple[int, ...] = tuple(
                    int(c) for c in np.unique(gt[valid]) if c != 0)
                fg = gt > 0
            else:
                if self.target_key not in data_sample:
                    raise KeyError(
                        f'sample {data_sample.get("img_path", "?")} has no '
                        f'{self.target_key!r} in its metainfo; add it to '
                        "PackSegInputs' meta_keys")
                target = int(data_sample[self.target_key])
                classes = (target, )
                fg = gt == target
            self.results.append((classes, self._region_counts(pred, gt, fg)))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Score every sample, group by class and average.

        Args:
            results (list[tuple]): ``(classes, (K, 2) counts)`` per sample,
                gathered from all ranks.

        Returns:
            dict[str, float]: Scores in percent, see the class docstring.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        print_log(f'protocol: {self.protocol}', logger=logger)
        class_names = list((self.dataset_meta or {}).get('classes', ()))
        num_regions = max([2] + [conf.shape[0] for _, conf in results])
        padded = [(classes,
                   np.pad(conf, ((0, num_regions - conf.shape[0]), (0, 0))))
                  for classes, conf in results]
        if self.fg_rule == 'polarity':
            fg_regions, polarity = np.array([False, True]), True
        else:
            total = sum((conf for _, conf in padded),
                        np.zeros((num_regions, 2), dtype=np.int64))
            fg_regions, polarity = fg_assignment(total), False
            print_log(
                'foreground regions chosen with GT labels on this split: '
                f'{np.flatnonzero(fg_regions).tolist()} of {num_regions}',
                logger=logger)

        keys = (('acc', 'Acc'), ('iou', 'IoU'), ('dice', 'DICE'))
        per_class: Dict[int, List[dict]] = {}
        all_scores = []
        for classes, conf in padded:
            score = foreground_scores_from_confusion(conf, fg_regions,
                                                     polarity)
            if np.isnan(score['acc']):
                continue  # no valid pixel
            all_scores.append(score)
            for cls in classes:
                per_class.setdefault(cls, []).append(score)

        def name_of(cls: int) -> str:
            return class_names[cls] if cls < len(class_names) else str(cls)

        table = PrettyTable()
        table.title = ('per-class fg/bg' if self.target_key is None else
                       'zero-shot per class (paper Table 7)') + \
            f' [{self.fg_rule}]'
        table.field_names = ['Class', 'Acc', 'IoU', 'DICE', 'Samples']
        class_means = {key: [] for key, _ in keys}
        for cls in sorted(per_class):
            scores = per_class[cls]
            row = [name_of(cls)]
            for key, _ in keys:
                value = float(np.mean([s[key] for s in scores]))
                class_means[key].append(value)
                row.append(round(value * 100, 2))
            table.add_row(row + [len(scores)])

        def pct(values: List[float]) -> float:
            return round(float(np.mean(values)) * 100, 2) if values \
                else float('nan')

        means = {key: pct(class_means[key]) for key, _ in keys}
        table.add_row(['mean'] + [means[key]
                                  for key, _ in keys] + [len(all_scores)])
        print_log('per class results:', logger=logger)
        print_log('\n' + table.get_string(), logger=logger)

        suffix = self.KEY_SUFFIX[self.fg_rule]
        tag = '_fg_per_class' if self.target_key is None else '_zero_shot'
        metrics = {f'm{name}{tag}{suffix}': means[key] for key, name in keys}
        if self.target_key is None:
            for key, name in keys:
                metrics[f'{name}_fg{suffix}'] = pct(
                    [s[key] for s in all_scores])
        return metrics
