# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Scoring unnamed regions against labelled ground truth.

Pure numpy / scipy helpers shared by :class:`ForegroundIoUMetric` and
:class:`HungarianIoUMetric`. Every function works on one image or on a
confusion matrix and returns *fractions* in ``[0, 1]``; the metric classes
convert to percent.

Conventions:

- A *region* is an unnamed predicted segment with an id in ``0..K-1``.
- A *class* is a ground-truth label id in ``0..C-1``; ``ignore_index``
  pixels are excluded from every count.
- A region confusion matrix has shape ``(K, C)``; entry ``[k, c]`` counts
  the pixels predicted as region ``k`` whose ground truth is class ``c``.
"""
from typing import Dict, Optional

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = [
    'foreground_scores', 'foreground_scores_from_confusion',
    'region_confusion', 'hungarian_match', 'mapped_confusion',
    'matched_scores', 'fg_assignment'
]


def _binary_scores(tp: float, fp: float, fn: float,
                   tn: float) -> Dict[str, float]:
    """Acc, IoU and DICE of one binary prediction from its four counts.

    When prediction and ground truth are both empty (``tp + fp + fn == 0``)
    IoU and DICE are undefined (0 / 0); they are set to 1, because an empty
    prediction of an empty foreground is a perfect answer (the same
    convention as the DAVIS J measure). The caller guarantees at least one
    pixel.
    """
    acc = (tp + tn) / (tp + fp + fn + tn)
    union = tp + fp + fn
    iou = tp / union if union > 0 else 1.0
    # |P| + |G| = 2tp + fp + fn, which is 0 exactly when union is 0.
    dice = 2 * tp / (2 * tp + fp + fn) if union > 0 else 1.0
    return dict(acc=float(acc), iou=float(iou), dice=float(dice))


def foreground_scores_from_confusion(
        confusion: np.ndarray,
        fg_regions: np.ndarray,
        polarity: bool = True) -> Dict[str, float]:
    """Foreground Acc / IoU / DICE of one image from its region confusion.

    The predicted foreground P is the union of the regions flagged in
    ``fg_regions``. This is the count-based twin of
    :func:`foreground_scores`, so that a metric can store a small
    ``(K, 2)`` matrix per image and choose the foreground regions later.

    Args:
        confusion (np.ndarray): ``(K, 2)`` pixel counts of one image; column
            0 is GT background, column 1 is GT foreground.
        fg_regions (np.ndarray): ``(K,)`` bool, True for the regions that
            form the predicted foreground.
        polarity (bool): If True, also score not-P and keep the better value
            *per metric* (IEM / ReDO rule). Defaults to True.

    Returns:
        dict: ``acc``, ``iou`` and ``dice`` as fractions in ``[0, 1]``.
    """
    confusion = np.asarray(confusion, dtype=np.float64)
    fg_regions = np.asarray(fg_regions, dtype=bool)
    if confusion.ndim != 2 or confusion.shape[1] != 2:
        raise ValueError('confusion must have shape (K, 2), got '
                         f'{confusion.shape}')
    if fg_regions.shape != (confusion.shape[0], ):
        raise ValueError(f'fg_regions must have shape ({confusion.shape[0]},)'
                         f', got {fg_regions.shape}')
    tp = confusion[fg_regions, 1].sum()
    fp = confusion[fg_regions, 0].sum()
    fn = confusion[~fg_regions, 1].sum()
    tn = confusion[~fg_regions, 0].sum()
    if tp + fp + fn + tn == 0:
        # Nothing to score (e.g. all pixels ignored): let the caller skip it.
        return dict(acc=float('nan'), iou=float('nan'), dice=float('nan'))
    scores = _binary_scores(tp, fp, fn, tn)
    if polarity:
        # not-P swaps the roles: its TP are P's FN, its FP are P's TN, ...
        flipped = _binary_scores(fn, tn, tp, fp)
        scores = {key: max(scores[key], flipped[key]) for key in scores}
    return scores


def foreground_scores(pred_fg: np.ndarray,
                      gt_fg: np.ndarray,
                      polarity: bool = True,
                      valid: Optional[np.ndarray] = None) -> Dict[str, float]:
    """Foreground Acc / IoU / DICE of ONE image (IEM / ReDO protocol).

    With P the predicted foreground and G the ground-truth foreground:

    - Acc  = mean(P == G)
    - IoU  = |P and G| / |P or G|
    - DICE = 2 |P and G| / (|P| + |G|)

    With ``polarity=True`` each metric is also computed for not-P and the
    better of the two values is kept, separately for each metric (so Acc and
    IoU may come from different polarities). This is the per-image polarity
    rule of IEM and ReDO, whose models do not know which of their two
    regions is the object.

    Edge case: when P and G are both empty (or, for the flipped polarity,
    not-P and G are), IoU and DICE are 0 / 0; they are defined as 1.0
    (perfect agreement on an empty foreground, as DAVIS J does). A
    prediction that is all background on an image without foreground
    therefore scores 1 / 1 / 1. Images with no valid pixel score NaN for all
    three metrics, and the caller should skip them.

    Args:
        pred_fg (np.ndarray): Bool array, True where the prediction is
            foreground.
        gt_fg (np.ndarray): Bool array of the same shape, True where the
            ground truth is foreground.
        polarity (bool): Apply the per-image polarity rule. Defaults to True.
        valid (np.ndarray, optional): Bool array of the same shape; pixels
            that are False (e.g. ``ignore_index`` padding) are left out of
            every count. Defaults to None (all pixels count).

    Returns:
        dict: ``acc``, ``iou`` and ``dice`` as fractions in ``[0, 1]``.
    """
    pred_fg = np.asarray(pred_fg, dtype=bool)
    gt_fg = np.asarray(gt_fg, dtype=bool)
    if pred_fg.shape != gt_fg.shape:
        raise ValueError(f'pred_fg {pred_fg.shape} and gt_fg {gt_fg.shape} '
                         'must have the same shape')
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != gt_fg.shape:
            raise ValueError(f'valid {valid.shape} and gt_fg {gt_fg.shape} '
                             'must have the same shape')
        pred_fg, gt_fg = pred_fg[valid], gt_fg[valid]
    # Rows: predicted bg / fg; columns: GT bg / fg.
    confusion = np.array(
        [[np.sum(~pred_fg & ~gt_fg),
          np.sum(~pred_fg & gt_fg)],
         [np.sum(pred_fg & ~gt_fg),
          np.sum(pred_fg & gt_fg)]],
        dtype=np.int64)
    return foreground_scores_from_confusion(
        confusion, np.array([False, True]), polarity=polarity)


def region_confusion(pred: np.ndarray,
                     gt: np.ndarray,
                     num_regions: int,
                     num_classes: int,
                     ignore_index: int = 255) -> np.ndarray:
    """Count pixels per (predicted region, GT class) pair.

    Args:
        pred (np.ndarray): Integer region ids in ``0..num_regions-1``.
        gt (np.ndarray): Integer class ids in ``0..num_classes-1`` or
            ``ignore_index``; same shape as ``pred``.
        num_regions (int): K, the number of rows.
        num_classes (int): C, the number of columns.
        ignore_index (int): GT value whose pixels are not counted.
            Defaults to 255.

    Returns:
        np.ndarray: ``(K, C)`` int64 confusion matrix.

    Raises:
        ValueError: On a shape mismatch, or on a region id or a (non-ignored)
            class id out of range; silently dropping them would bias scores.
    """
    pred = np.asarray(pred)
    gt = np.asarray(gt)
    if pred.shape != gt.shape:
        raise ValueError(f'pred {pred.shape} and gt {gt.shape} must have the '
                         'same shape')
    keep = gt != ignore_index
    pred = pred[keep].astype(np.int64)
    gt = gt[keep].astype(np.int64)
    if pred.size and (pred.min() < 0 or pred.max() >= num_regions):
        raise ValueError(f'region ids must lie in [0, {num_regions}), got '
                         f'[{pred.min()}, {pred.max()}]')
    if gt.size and (gt.min() < 0 or gt.max() >= num_classes):
        raise ValueError(f'class ids must lie in [0, {num_classes}) or be '
                         f'{ignore_index}, got [{gt.min()}, {gt.max()}]')
    counts = np.bincount(
        pred * num_classes + gt, minlength=num_regions * num_classes)
    return counts.reshape(num_regions, num_classes)


def _iou_matrix(confusion: np.ndarray) -> np.ndarray:
    """IoU of every (region, class) pair; 0 where the union is empty."""
    confusion = np.asarray(confusion, dtype=np.float64)
    union = (
        confusion.sum(axis=1, keepdims=True) +
        confusion.sum(axis=0, keepdims=True) - confusion)
    iou = np.zeros_like(confusion)
    np.divide(confusion, union, out=iou, where=union > 0)
    return iou


def hungarian_match(confusion: np.ndarray,
                    unmatched_class: int = 0) -> Dict[int, int]:
    """One-to-one region -> class assignment that maximises total IoU.

    This is variant 1 of evaluation.md (Leopart): the cost is ``1 - IoU``
    of each (region, class) pair, solved with
    ``scipy.optimize.linear_sum_assignment``. With K > C the K - C regions
    left over are mapped to ``unmatched_class`` (background), i.e. they
    count as background predictions; with K < C some classes receive no
    region and score IoU 0 wherever they occur.

    Args:
        confusion (np.ndarray): ``(K, C)`` region confusion matrix, e.g.
            summed over a split (dataset-level matching) or of one image
            (per-image matching).
        unmatched_class (int): Class given to regions without a partner.
            Defaults to 0 (background).

    Returns:
        dict[int, int]: Class id for every region id ``0..K-1``.
    """
    confusion = np.asarray(confusion)
    if confusion.ndim != 2:
        raise ValueError(f'confusion must be 2-D, got {confusion.shape}')
    num_regions, num_classes = confusion.shape
    if not 0 <= unmatched_class < num_classes:
        raise ValueError(f'unmatched_class {unmatched_class} is not a class '
                         f'in [0, {num_classes})')
    rows, cols = linear_sum_assignment(1.0 - _iou_matrix(confusion))
    mapping = {k: int(unmatched_class) for k in range(num_regions)}
    mapping.update({int(k): int(c) for k, c in zip(rows, cols)})
    return mapping


def mapped_confusion(confusion: np.ndarray, mapping: Dict[int,
                                                          int]) -> np.ndarray:
    """Merge the rows of a region confusion matrix by their matched class.

    Args:
        confusion (np.ndarray): ``(K, C)`` region confusion matrix.
        mapping (dict[int, int]): Class id for every region ``0..K-1``.

    Returns:
        np.ndarray: ``(C, C)`` class confusion matrix, rows are predicted
        (matched) classes, columns GT classes.
    """
    confusion = np.asarray(confusion)
    num_regions, num_classes = confusion.shape
    missing = set(range(num_regions)) - set(mapping)
    if missing:
        raise ValueError(f'mapping has no class for regions {sorted(missing)}')
    targets = np.array([mapping[k] for k in range(num_regions)],
                       dtype=np.int64)
    if targets.size and (targets.min() < 0 or targets.max() >= num_classes):
        raise ValueError(f'mapping targets must lie in [0, {num_classes})')
    merged = np.zeros((num_classes, num_classes), dtype=confusion.dtype)
    np.add.at(merged, targets, confusion)
    return merged


def matched_scores(confusion: np.ndarray,
                   mapping: Dict[int, int]) -> Dict[str, object]:
    """mIoU and pixel accuracy once regions carry class names.

    Per class c, with the predicted pixels of c being those of every region
    mapped to c: ``IoU_c = |pred_c and gt_c| / |pred_c or gt_c|`` and
    ``Acc_c = |pred_c and gt_c| / |gt_c|``. A class with an empty union
    (resp. no GT pixel) has NaN IoU (resp. Acc) and is left out of the mean,
    as in mmseg's IoUMetric.

    Args:
        confusion (np.ndarray): ``(K, C)`` region confusion matrix.
        mapping (dict[int, int]): Class id for every region, e.g. from
            :func:`hungarian_match`.

    Returns:
        dict: ``mIoU`` (float), ``aAcc`` (float, correct pixels / valid
        pixels), ``mAcc`` (float), ``IoU`` (``(C,)`` array) and ``Acc``
        (``(C,)`` array), all fractions.
    """
    merged = mapped_confusion(confusion, mapping).astype(np.float64)
    intersect = np.diag(merged)
    pred_area = merged.sum(axis=1)
    gt_area = merged.sum(axis=0)
    union = pred_area + gt_area - intersect
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = np.where(union > 0, intersect / union, np.nan)
        acc = np.where(gt_area > 0, intersect / gt_area, np.nan)
    total = merged.sum()

    def _nanmean(values: np.ndarray) -> float:
        # np.nanmean warns on an all-NaN input; an empty split is not an
        # error worth a warning here.
        finite = values[~np.isnan(values)]
        return float(finite.mean()) if finite.size else float('nan')

    return dict(
        mIoU=_nanmean(iou),
        aAcc=float(intersect.sum() / total) if total > 0 else float('nan'),
        mAcc=_nanmean(acc),
        IoU=iou,
        Acc=acc)


def fg_assignment(confusion: np.ndarray) -> np.ndarray:
    """Assign every region to foreground or background USING GT LABELS.

    A region is foreground when most of its (non-ignored) pixels are GT
    foreground, i.e. ``confusion[k, 1] > confusion[k, 0]``; ties, including
    regions that never occur, go to background. Computed once on a whole
    evaluation split, this is the dataset-level {bg, fg} assignment that
    evaluation.md asks for when K > 2. It reads the labels, so scores built
    on it must be reported as label-assisted, never next to the label-free
    per-image polarity rule without saying so.

    Args:
        confusion (np.ndarray): ``(K, 2)`` region confusion matrix; column
            0 is GT background, column 1 is GT foreground.

    Returns:
        np.ndarray: ``(K,)`` bool, True for the regions assigned to
        foreground by the labels.
    """
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[1] != 2:
        raise ValueError('confusion must have shape (K, 2), got '
                         f'{confusion.shape}')
    return confusion[:, 1] > confusion[:, 0]
