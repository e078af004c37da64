# Copyright (c) mmfactdiff contributors. All rights reserved.
from unittest import mock

import numpy as np
import pytest
import torch

from mmfactdiff.evaluation import ForegroundIoUMetric
from mmfactdiff.registry import METRICS

LOG_TARGET = 'mmfactdiff.evaluation.metrics.foreground_iou_metric.print_log'

# Image A (4x4): GT fg = left half (8 px), region 1 = top 2 rows x 3 cols.
# P:     tp=4 fp=2 fn=4 tn=6 -> Acc 10/16, IoU 4/10, DICE 8/14
# not-P: tp=4 fp=6 fn=4 tn=2 -> Acc 6/16,  IoU 4/14, DICE 8/18
# so the polarity rule keeps P for every metric.
GT_A = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0]])
PRED_A = np.array([[1, 1, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
# Image C (4x4): GT fg = 2 px, prediction all region 0 (P empty).
# P:     Acc 14/16, IoU 0,    DICE 0
# not-P: Acc 2/16,  IoU 2/16, DICE 4/18
# -> Acc from P, IoU and DICE from not-P.
GT_C = np.zeros((4, 4), dtype=np.int64)
GT_C[0, :2] = 1
PRED_C = np.zeros((4, 4), dtype=np.int64)


def _sample(pred, gt):
    return dict(
        pred_sem_seg=dict(data=torch.as_tensor(pred)[None]),
        gt_sem_seg=dict(data=torch.as_tensor(gt)[None]))


def _run(metric, samples):
    metric.results.clear()
    metric.process(data_batch={}, data_samples=samples)
    return metric.compute_metrics(metric.results)


def test_polarity_rule_averages_per_image_best_polarity():
    metric = ForegroundIoUMetric()
    with mock.patch(LOG_TARGET) as log:
        res = _run(metric, [_sample(PRED_A, GT_A), _sample(PRED_C, GT_C)])
    # Acc  = (10/16 + 14/16) / 2 = 0.75
    # IoU  = (4/10 + 2/16) / 2   = 0.2625
    # DICE = (8/14 + 4/18) / 2   = 0.396825...
    assert res == pytest.approx(dict(Acc=75.0, IoU=26.25, DICE=39.68))
    assert 'IEM/ReDO per-image polarity rule' in log.call_args_list[0][0][0]


def test_polarity_rule_ignores_which_region_is_foreground():
    metric = ForegroundIoUMetric()
    reference = _run(metric, [_sample(PRED_A, GT_A), _sample(PRED_C, GT_C)])
    flipped = _run(metric,
                   [_sample(1 - PRED_A, GT_A),
                    _sample(1 - PRED_C, GT_C)])
    assert flipped == reference


def test_ignore_index_and_multi_valued_gt():
    # Column 2 ignored; label 2 counts as foreground like 1.
    # P:     tp=4 fp=0 fn=4 tn=4 -> Acc 8/12, IoU 4/8, DICE 8/12
    # not-P: Acc 4/12, IoU 4/12, DICE 8/16 -> P wins everywhere.
    gt = GT_A * 2
    gt[:, 2] = 255
    res = _run(ForegroundIoUMetric(), [_sample(PRED_A, gt)])
    assert res == pytest.approx(dict(Acc=66.67, IoU=50.0, DICE=66.67))
    # A custom ignore_index: now 255 would be foreground, 7 is ignored.
    gt[:, 2] = 7
    res = _run(ForegroundIoUMetric(ignore_index=7), [_sample(PRED_A, gt)])
    assert res == pytest.approx(dict(Acc=66.67, IoU=50.0, DICE=66.67))


def test_image_without_valid_pixels_is_skipped():
    metric = ForegroundIoUMetric()
    all_ignored = np.full((4, 4), 255)
    res = _run(metric, [_sample(PRED_A, GT_A), _sample(PRED_A, all_ignored)])
    # Only image A counts: 10/16, 4/10, 8/14.
    assert res == pytest.approx(dict(Acc=62.5, IoU=40.0, DICE=57.14))


def test_polarity_rule_rejects_more_than_two_regions():
    metric = ForegroundIoUMetric()
    with pytest.raises(ValueError, match='dataset_majority'):
        metric.process({}, [_sample(PRED_A * 2, GT_A)])


def test_dataset_majority_assignment_uses_the_split():
    # Image 1 (2x4)            Image 2 (2x4)
    # pred 0 1 1 2  gt 0 1 1 1  pred 2 2 0 0  gt 1 0 0 0
    #      0 1 1 2     0 1 1 0       1 1 0 0     1 1 0 0
    # (bg, fg) counts: image 1 r0 (2,0) r1 (0,4) r2 (1,1)
    #                  image 2 r0 (4,0) r1 (0,2) r2 (1,1)
    # split totals r0 (6,0) -> bg, r1 (0,6) -> fg, r2 (2,2) tie -> bg.
    # Image 1: P = r1: tp=4 fp=0 fn=1 tn=3 -> Acc 7/8, IoU 4/5, DICE 8/9
    # Image 2: P = r1: tp=2 fp=0 fn=1 tn=5 -> Acc 7/8, IoU 2/3, DICE 4/5
    samples = [
        _sample([[0, 1, 1, 2], [0, 1, 1, 2]], [[0, 1, 1, 1], [0, 1, 1, 0]]),
        _sample([[2, 2, 0, 0], [1, 1, 0, 0]], [[1, 0, 0, 0], [1, 1, 0, 0]]),
    ]
    metric = ForegroundIoUMetric(fg_rule='dataset_majority')
    with mock.patch(LOG_TARGET) as log:
        res = _run(metric, samples)
    assert res == pytest.approx(
        dict(
            Acc_dataset_majority=87.5,
            IoU_dataset_majority=73.33,
            DICE_dataset_majority=84.44))
    messages = ' '.join(call[0][0] for call in log.call_args_list)
    assert 'USES GT LABELS' in messages
    assert '[1]' in messages  # the foreground regions are logged


def test_dataset_majority_never_flips_an_image():
    # Image X (4x4): prediction = GT (left half fg), region 1 = fg.
    # Image Y (2x2): GT fg = one pixel, prediction = inverted GT.
    # Split totals: r1 (3 bg, 8 fg) -> fg, r0 (8 bg, 1 fg) -> bg.
    # dataset_majority: X scores 1/1/1, Y has tp=0 -> 0/0/0: mean 50.
    # polarity: Y flips to a perfect match, mean 100.
    gt_y = np.array([[1, 0], [0, 0]])
    samples = [_sample(GT_A, GT_A), _sample(1 - gt_y, gt_y)]
    majority = _run(ForegroundIoUMetric(fg_rule='dataset_majority'), samples)
    assert list(majority.values()) == pytest.approx([50.0, 50.0, 50.0])
    polarity = _run(ForegroundIoUMetric(), samples)
    assert polarity == pytest.approx(dict(Acc=100.0, IoU=100.0, DICE=100.0))


def test_build_and_evaluate_with_prefix():
    metric = METRICS.build(dict(type='ForegroundIoUMetric', prefix='fg'))
    assert isinstance(metric, ForegroundIoUMetric)
    metric.dataset_meta = dict(classes=('background', 'foreground'))
    metric.process(data_batch={}, data_samples=[_sample(PRED_A, GT_A)])
    res = metric.evaluate(1)
    assert res == pytest.approx({
        'fg/Acc': 62.5,
        'fg/IoU': 40.0,
        'fg/DICE': 57.14
    })


def test_bad_rule_raises():
    with pytest.raises(ValueError):
        ForegroundIoUMetric(fg_rule='majority')
