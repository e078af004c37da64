# Copyright (c) mmfactdiff contributors. All rights reserved.
import numpy as np
import pytest
import torch

from mmfactdiff.evaluation import PerClassForegroundMetric

VOC_CLASSES = ('background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle',
               'bus', 'car', 'cat', 'chair', 'cow', 'diningtable', 'dog',
               'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa',
               'train', 'tvmonitor')


def _sample(pred, gt, **meta):
    sample = dict(
        pred_sem_seg=dict(data=torch.tensor([pred])),
        gt_sem_seg=dict(data=torch.tensor([gt])),
        img_path='x.jpg')
    sample.update(meta)
    return sample


def _run(metric, samples):
    metric.dataset_meta = dict(classes=VOC_CLASSES)
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_per_class_fg_groups_images_by_their_classes(capsys):
    """Hand-computed: image A (cat, one ignored pixel) scores Acc 2/3,
    IoU 1/2, DICE 2/3 with region 1 as foreground; image B (dog + person)
    is all region 1: P scores 3/4, 3/4, 6/7 (not-P is worse)."""
    a = _sample([[0, 1], [0, 1]], [[0, 8], [8, 255]])
    b = _sample([[1, 1], [1, 1]], [[12, 12], [15, 0]])
    metrics = _run(PerClassForegroundMetric(), [a, b])
    # classes cat 0.5, dog 0.75, person 0.75
    assert metrics['mIoU_fg_per_class'] == pytest.approx(66.67)
    assert metrics['mAcc_fg_per_class'] == pytest.approx(
        round((2 / 3 + 0.75 + 0.75) / 3 * 100, 2))
    assert metrics['mDICE_fg_per_class'] == pytest.approx(
        round((2 / 3 + 6 / 7 + 6 / 7) / 3 * 100, 2))
    # over images: (1/2 + 3/4) / 2
    assert metrics['IoU_fg'] == pytest.approx(62.5)
    assert metrics['Acc_fg'] == pytest.approx(70.83)


def test_per_class_fg_logs_protocol_and_table():
    import logging

    from mmengine.logging import MMLogger

    # the metric logs to the current MMLogger: the one created last
    logger = MMLogger.get_instance('per-class-test', log_level='INFO')
    messages = []

    class Collect(logging.Handler):

        def emit(self, record):
            messages.append(record.getMessage())

    handler = Collect()
    logger.addHandler(handler)
    try:
        _run(PerClassForegroundMetric(),
             [_sample([[0, 1]], [[0, 8]]),
              _sample([[1, 0]], [[12, 0]])])
    finally:
        logger.removeHandler(handler)
    text = '\n'.join(messages)
    assert 'protocol: per-class foreground/background' in text
    assert 'cat' in text and 'dog' in text and 'mean' in text


def test_zero_shot_scores_only_the_conditioned_class():
    """Image B conditioned on dog: GT fg = the two dog pixels, all-region-1
    prediction gives Acc 1/2, IoU 1/2, DICE 2/3; conditioned on person with
    region 1 exactly on the person pixel: 1, 1, 1."""
    gt = [[12, 12], [15, 0]]
    samples = [
        _sample([[1, 1], [1, 1]], gt, target_class=12),
        _sample([[0, 0], [1, 0]], gt, target_class=15),
    ]
    metrics = _run(
        PerClassForegroundMetric(target_key='target_class'), samples)
    assert metrics == {
        'mAcc_zero_shot': 75.0,
        'mIoU_zero_shot': 75.0,
        'mDICE_zero_shot': round((2 / 3 + 1) / 2 * 100, 2)
    }


def test_dataset_majority_assigns_regions_on_the_split():
    """K = 3: regions 1 and 2 are mostly object pixels over the split, so
    they form the foreground of every image (no polarity flip)."""
    a = _sample([[0, 1, 2]], [[0, 8, 8]])
    b = _sample([[0, 2, 0]], [[0, 12, 12]])
    metrics = _run(
        PerClassForegroundMetric(fg_rule='dataset_majority'), [a, b])
    # A perfect (1.0); B: P = {1}, G = {1, 2}: IoU 1/2, Acc 2/3
    assert metrics['IoU_fg_dataset_majority'] == pytest.approx(75.0)
    assert metrics['mIoU_fg_per_class_dataset_majority'] == pytest.approx(75.0)
    assert metrics['Acc_fg_dataset_majority'] == pytest.approx(
        round((1 + 2 / 3) / 2 * 100, 2))


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match='fg_rule'):
        PerClassForegroundMetric(fg_rule='best')
    metric = PerClassForegroundMetric()
    metric.dataset_meta = dict(classes=VOC_CLASSES)
    with pytest.raises(ValueError, match='dataset_majority'):
        metric.process({}, [_sample([[0, 2]], [[0, 8]])])
    metric = PerClassForegroundMetric(target_key='target_class')
    with pytest.raises(KeyError, match='meta_keys'):
        metric.process({}, [_sample([[0, 1]], [[0, 8]])])


def test_images_without_valid_pixels_are_skipped():
    metrics = _run(
        PerClassForegroundMetric(),
        [_sample([[0, 1]], [[255, 255]]),
         _sample([[0, 1]], [[0, 8]])])
    assert metrics['IoU_fg'] == 100.0
    assert not np.isnan(metrics['mIoU_fg_per_class'])
