# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger, print_log
from mmseg.evaluation import IoUMetric

from mmfactdiff.registry import METRICS


@METRICS.register_module()
class SeenUnseenIoUMetric(IoUMetric):
    """The zero-shot segmentation metric of ZegFormer and ZS3Net: mmseg's
    ``IoUMetric`` (per-class IoU over the split) averaged over the seen
    classes (``mIoU_seen``) and over the unseen ones (``mIoU_unseen``),
    with their harmonic mean (``hIoU``) and the mean over all classes
    (``mIoU``). A class with no pixel in the split's labels or predictions
    is left out of its mean.

    Args:
        seen_classes (Sequence[int]): Class indices trained on.
        unseen_classes (Sequence[int]): Class indices never trained on.
        class_names (Sequence[str], optional): Names of the label ids when
            they are not the dataset's ``classes``; None reads the
            dataset's. Defaults to None.
        **kwargs: ``IoUMetric`` arguments (``ignore_index``, ...).
    """

    def __init__(self,
                 seen_classes: Sequence[int],
                 unseen_classes: Sequence[int],
                 class_names: Optional[Sequence[str]] = None,
                 **kwargs) -> None:
        super().__init__(iou_metrics=['mIoU'], **kwargs)
        self.class_names = None if class_names is None else [
            str(c) for c in class_names
        ]
        self.seen_classes = [int(c) for c in seen_classes]
        self.unseen_classes = [int(c) for c in unseen_classes]
        overlap = set(self.seen_classes) & set(self.unseen_classes)
        if overlap or not self.seen_classes or not self.unseen_classes:
            raise ValueError(
                'SeenUnseenIoUMetric: seen_classes and unseen_classes must '
                f'be non-empty and disjoint, got {self.seen_classes} and '
                f'{self.unseen_classes}')

    def compute_metrics(self, results: List) -> Dict[str, float]:
        logger = MMLogger.get_current_instance()
        names = self.class_names or list(self.dataset_meta['classes'])
        num_classes = len(names)
        bad = [
            c for c in self.seen_classes + self.unseen_classes
            if not 0 <= c < num_classes
        ]
        if bad:
            raise ValueError(f'SeenUnseenIoUMetric: classes {bad} are not '
                             f'in the dataset\'s {num_classes} classes')
        results = tuple(zip(*results))
        # the areas have one bin per dataset class: keep the named ids
        intersect = sum(results[0]).numpy().astype(np.float64)[:num_classes]
        union = sum(results[1]).numpy().astype(np.float64)[:num_classes]
        with np.errstate(invalid='ignore', divide='ignore'):
            iou = np.where(union > 0, intersect / union, np.nan)

        def mean(classes):
            vals = iou[classes]
            vals = vals[~np.isnan(vals)]
            return float(vals.mean()) * 100 if len(vals) else float('nan')

        seen, unseen = mean(self.seen_classes), mean(self.unseen_classes)
        harmonic = (2 * seen * unseen / (seen + unseen) if seen +
                    unseen > 0 else 0.0)
        print_log(
            'protocol: per-class IoU over the split (mmseg IoUMetric), '
            f'seen {[names[c] for c in self.seen_classes]}, unseen '
            f'{[names[c] for c in self.unseen_classes]}; ' +
            ', '.join(f'{n} {v * 100:.2f}' for n, v in zip(names, iou)),
            logger=logger)
        return dict(
            mIoU=round(mean(list(range(num_classes))), 2),
            mIoU_seen=round(seen, 2),
            mIoU_unseen=round(unseen, 2),
            hIoU=round(harmonic, 2))
