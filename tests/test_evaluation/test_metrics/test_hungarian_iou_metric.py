# Copyright (c) mmfactdiff contributors. All rights reserved.
from unittest import mock

import numpy as np
import pytest
import torch

from mmfactdiff.evaluation import HungarianIoUMetric
from mmfactdiff.registry import METRICS

LOG_TARGET = 'mmfactdiff.evaluation.metrics.hungarian_iou_metric.print_log'


def _sample(pred, gt, logits_channels=None):
    sample = dict(
        pred_sem_seg=dict(data=torch.as_tensor(np.asarray(pred))[None]),
        gt_sem_seg=dict(data=torch.as_tensor(np.asarray(gt))[None]))
    if logits_channels is not None:
        shape = (logits_channels, ) + np.asarray(pred).shape
        sample['seg_logits'] = dict(data=torch.zeros(shape))
    return sample


def _run(metric, samples, classes):
    metric.dataset_meta = dict(classes=classes)
    metric.results.clear()
    metric.process(data_batch={}, data_samples=samples)
    return metric.compute_metrics(metric.results)


# Two 1x4 images whose regions swap meaning from one image to the other.
# Each image alone is segmented perfectly; over the split each region is
# half background, half object.
SWAP_SAMPLES = [
    _sample([[0, 0, 1, 1]], [[0, 0, 1, 1]]),
    _sample([[1, 1, 0, 0]], [[0, 0, 1, 1]]),
]
BINARY = ('background', 'object')


def test_dataset_vs_per_image_matching():
    # Dataset level: r0 = (2 bg, 2 obj), r1 = (2 bg, 2 obj); any one-to-one
    # assignment gives per class IoU 2/(4+4-2) = 1/3 and Acc 2/4.
    with mock.patch(LOG_TARGET) as log:
        res = _run(HungarianIoUMetric(), SWAP_SAMPLES, BINARY)
    assert res == pytest.approx(dict(aAcc=50.0, mIoU=33.33, mAcc=50.0))
    messages = ' '.join(str(call[0][0]) for call in log.call_args_list)
    assert 'dataset-level' in messages and 'Leopart' in messages
    # Per image: both images are matched perfectly.
    with mock.patch(LOG_TARGET) as log:
        res = _run(
            HungarianIoUMetric(matching='per_image'), SWAP_SAMPLES, BINARY)
    assert res == pytest.approx(
        dict(
            aAcc_per_image_matching=100.0,
            mIoU_per_image_matching=100.0,
            mAcc_per_image_matching=100.0))
    messages = ' '.join(str(call[0][0]) for call in log.call_args_list)
    assert 'PER-IMAGE' in messages


def test_per_class_table_is_logged():
    with mock.patch(LOG_TARGET) as log:
        _run(HungarianIoUMetric(), SWAP_SAMPLES, BINARY)
    table = [
        str(call[0][0]) for call in log.call_args_list
        if 'object' in str(call[0][0])
    ]
    assert table and '33.33' in table[0] and 'Regions' in table[0]


def test_region_ids_are_relabelling_invariant():
    gt = np.array([[0, 0, 1, 1, 2, 2, 2, 255], [0, 0, 1, 1, 2, 2, 0, 255]])
    pred = np.array([[0, 0, 1, 1, 2, 2, 3, 3], [0, 1, 1, 1, 2, 3, 3, 0]])
    classes = ('a', 'b', 'c')
    reference = _run(HungarianIoUMetric(), [_sample(pred, gt)], classes)
    perm = np.array([3, 2, 0, 1])  # region k becomes perm[k]
    relabelled = _run(HungarianIoUMetric(), [_sample(perm[pred], gt)], classes)
    assert relabelled == reference


def test_ignore_index_pixels_do_not_count():
    # The last two pixels are ignored; whatever is predicted there, the
    # remaining pixels match perfectly.
    gt = [[0, 0, 1, 1, 255, 255]]
    perfect = _run(HungarianIoUMetric(), [_sample([[1, 1, 0, 0, 0, 0]], gt)],
                   BINARY)
    assert perfect == pytest.approx(dict(aAcc=100.0, mIoU=100.0, mAcc=100.0))
    # Without ignoring them (ignore_index=99), label 255 is out of range.
    with pytest.raises(ValueError):
        _run(
            HungarianIoUMetric(ignore_index=99),
            [_sample([[1, 1, 0, 0, 0, 0]], gt)], BINARY)


def test_more_regions_than_classes_sends_leftovers_to_background():
    # r0: 30 bg; r1: 20 obj; r2: 10 bg + 5 obj (left over -> background).
    # pred bg = r0 + r2 = (40 bg, 5 obj), pred obj = r1 = (0, 20)
    # IoU bg = 40/45, obj = 20/25 -> mIoU 84.44; aAcc 60/65 = 92.31;
    # Acc bg = 40/40, obj = 20/25 -> mAcc 90.
    pred = np.repeat([0, 1, 2], [30, 20, 15])[None]
    gt = np.repeat([0, 1, 0, 1], [30, 20, 10, 5])[None]
    res = _run(HungarianIoUMetric(), [_sample(pred, gt)], BINARY)
    assert res == pytest.approx(dict(aAcc=92.31, mIoU=84.44, mAcc=90.0))


def test_fewer_regions_than_classes():
    # r0: 20 c0; r1: 15 c1 + 5 c2. Class c2 gets no region (IoU 0);
    # class c3 never occurs (NaN, left out of the means).
    # IoU = 1, 15/20, 0 -> mIoU 58.33; Acc = 1, 1, 0 -> mAcc 66.67;
    # aAcc = 35/40.
    pred = np.repeat([0, 1], [20, 20])[None]
    gt = np.repeat([0, 1, 2], [20, 15, 5])[None]
    res = _run(HungarianIoUMetric(), [_sample(pred, gt)],
               ('c0', 'c1', 'c2', 'c3'))
    assert res == pytest.approx(dict(aAcc=87.5, mIoU=58.33, mAcc=66.67))


def test_num_regions_inference():
    pred = [[0, 1, 1, 0]]
    gt = [[0, 1, 1, 0]]
    metric = HungarianIoUMetric()
    _run(metric, [_sample(pred, gt, logits_channels=4)], BINARY)
    assert metric.results[0].shape == (4, 2)
    _run(metric, [_sample(pred, gt, logits_channels=1)], BINARY)
    assert metric.results[0].shape == (2, 2)  # sigmoid head: K = 2
    _run(metric, [_sample([[0, 2, 2, 0]], gt)], BINARY)
    assert metric.results[0].shape == (3, 2)  # max id + 1
    metric = HungarianIoUMetric(num_regions=5)
    _run(metric, [_sample(pred, gt)], BINARY)
    assert metric.results[0].shape == (5, 2)
    with pytest.raises(ValueError):
        _run(
            HungarianIoUMetric(num_regions=2), [_sample([[0, 2, 2, 0]], gt)],
            BINARY)


def test_images_with_different_inferred_k_are_padded():
    samples = [
        _sample([[0, 0, 1, 1]], [[0, 0, 1, 1]]),
        _sample([[0, 0, 2, 2]], [[0, 0, 1, 1]]),
    ]
    # K = 3 over the split: r0 = (4, 0), r1 = (0, 2), r2 = (0, 2).
    # r1 -> obj (IoU 2/4 ties with r2, either way) and the other object
    # region is left over -> background.
    # pred bg = (4, 2), pred obj = (0, 2): IoU bg 4/6, obj 2/4;
    # aAcc 6/8; Acc bg 1, obj 2/4.
    res = _run(HungarianIoUMetric(), samples, BINARY)
    assert res == pytest.approx(dict(aAcc=75.0, mIoU=58.33, mAcc=75.0))


def test_build_evaluate_and_missing_meta():
    metric = METRICS.build(dict(type='HungarianIoUMetric', prefix='hung'))
    assert isinstance(metric, HungarianIoUMetric)
    with pytest.raises(RuntimeError):
        metric.process({}, SWAP_SAMPLES)
    metric.dataset_meta = dict(classes=BINARY)
    metric.process(data_batch={}, data_samples=SWAP_SAMPLES)
    res = metric.evaluate(2)
    assert res == pytest.approx({
        'hung/aAcc': 50.0,
        'hung/mIoU': 33.33,
        'hung/mAcc': 50.0
    })


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        HungarianIoUMetric(matching='greedy')
    with pytest.raises(ValueError):
        HungarianIoUMetric(num_regions=0)
