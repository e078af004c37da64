# Copyright (c) mmfactdiff contributors. All rights reserved.
"""DAVISMetric on constructed videos whose J&F is known exactly."""
import os
import os.path as osp
import re
from unittest import mock

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmfactdiff.evaluation.metrics.davis_metric import DAVISMetric
from mmfactdiff.registry import METRICS

LOG_TARGET = 'mmfactdiff.evaluation.metrics.davis_metric.print_log'
REPO_ROOT = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
SUBSET = osp.normpath(
    osp.join(REPO_ROOT, '..', 'shared', 'data', 'davis2017_subset'))


def _sample(pred, gt, sequence='seq', frame_index=0, **meta):
    sample = dict(
        pred_sem_seg=dict(data=torch.as_tensor(np.asarray(pred))[None]),
        gt_sem_seg=dict(data=torch.as_tensor(np.asarray(gt))[None]),
        **meta)
    if sequence is not None:
        sample.update(sequence=sequence, frame_index=frame_index)
    return sample


def _run(metric, samples):
    metric.results.clear()
    with mock.patch(LOG_TARGET) as log:
        metric.process(data_batch={}, data_samples=samples)
        res = metric.compute_metrics(metric.results)
    messages = '\n'.join(str(call[0][0]) for call in log.call_args_list)
    return res, messages


def _table_row(log, *cells):
    """Whether the logged per-object table has a row starting with cells."""
    pattern = r'\|\s*' + r'\s*\|\s*'.join(map(re.escape, cells)) + r'\s*\|'
    return re.search(pattern, log) is not None


def _rows(top, bottom, shape=(100, 100), value=1):
    mask = np.zeros(shape, dtype=np.uint8)
    mask[top:bottom + 1] = value
    return mask


def test_build_and_arguments():
    metric = METRICS.build(dict(type='DAVISMetric'))
    assert isinstance(metric, DAVISMetric) and metric.task == 'unsupervised'
    with pytest.raises(ValueError):
        DAVISMetric(task='interactive')
    with pytest.raises(ValueError):
        DAVISMetric(task='semi-supervised', background_regions=[0])


def test_perfect_prediction_with_permuted_region_ids():
    # Objects 1 (left) and 2 (right) over 4 frames; the model calls object
    # 1 region 3, object 2 region 0 and the background region 1 (region 2
    # never occurs: an empty proposal). The assignment recovers the
    # permutation: J = F = 1 everywhere.
    gt = np.zeros((20, 30), np.uint8)
    gt[5:15, 2:10] = 1
    gt[5:15, 18:28] = 2
    pred = np.choose(gt, [1, 3, 0]).astype(np.uint8)
    frames = [_sample(pred, gt, 'dogs', t, num_frames=4) for t in (2, 0, 3, 1)]
    res, log = _run(DAVISMetric(), frames)
    assert res == {
        'J&F-Mean': 100.0,
        'J-Mean': 100.0,
        'J-Recall': 100.0,
        'J-Decay': 0.0,
        'F-Mean': 100.0,
        'F-Recall': 100.0,
        'F-Decay': 0.0
    }
    assert 'DAVIS 2017 unsupervised protocol (davis2017-evaluation' in log
    assert 'at most 20 proposals' in log
    # Per-object table: object 1 -> region 3, object 2 -> region 0.
    assert _table_row(log, 'dogs', '1', '3', '100.00')
    assert _table_row(log, 'dogs', '2', '0', '100.00')


def test_known_j_and_zero_f():
    # 100x100 (tolerance 2 px): GT object rows 0..49, region 1 = rows 0..52
    # (J = 50/53, boundary 3 px from GT's -> F = 0), region 0 the rest
    # (J = 0, F = 0): region 1 is matched. Recall_J = 1, Recall_F = 0.
    gt = _rows(0, 49)
    pred = _rows(0, 52)
    res, _ = _run(DAVISMetric(), [_sample(pred, gt, 's', t) for t in range(3)])
    assert res['J-Mean'] == round(100 * 50 / 53, 2)
    assert res['F-Mean'] == 0.0
    assert res['J&F-Mean'] == round(50 * 50 / 53, 2)
    assert res['J-Recall'] == 100.0 and res['F-Recall'] == 0.0
    # Declaring region 1 background a priori leaves region 0 only.
    res, log = _run(
        DAVISMetric(background_regions=[1]),
        [_sample(pred, gt, 's', t) for t in range(3)])
    assert res['J-Mean'] == 0.0 and res['J&F-Mean'] == 0.0
    assert 'background_regions=[1]' in log


def test_void_pixels_are_ignored():
    # As above but GT rows 50..52 are void (255): the prediction is right
    # on every non-void pixel -> J = F = 1.
    gt = _rows(0, 49)
    gt[50:53] = 255
    res, _ = _run(DAVISMetric(), [_sample(_rows(0, 52), gt, 's', 0)])
    assert res['J&F-Mean'] == 100.0


def test_mean_is_over_objects_not_sequences():
    # Sequence a: two objects, both perfect. Sequence b: one object on a
    # quarter of the image, prediction one region over everything:
    # J = 1/4, F = 0 (no predicted boundary: P = 1, R = 0).
    # Over objects: J = (1 + 1 + 0.25) / 3 = 75, F = 2/3; per sequence
    # averaging would give 62.5 for J instead.
    gt_a = np.zeros((20, 20), np.uint8)
    gt_a[2:8, 2:8], gt_a[12:18, 12:18] = 1, 2
    gt_b = np.zeros((20, 20), np.uint8)
    gt_b[:10, :10] = 1
    samples = [
        _sample(gt_a, gt_a, 'a', 0),
        _sample(np.zeros_like(gt_b), gt_b, 'b', 0),
        _sample(gt_a, gt_a, 'a', 1),
        _sample(np.zeros_like(gt_b), gt_b, 'b', 1),
    ]
    res, _ = _run(DAVISMetric(), samples)
    assert res['J-Mean'] == 75.0
    assert res['F-Mean'] == round(200 / 3, 2)
    assert res['J&F-Mean'] == round((75 + 200 / 3) / 2, 2)


def test_padding_with_empty_proposal_and_decay():
    # Two objects, 4 frames; object 2 is only visible in frames 0 and 1.
    # The prediction is one region everywhere (one proposal), so an empty
    # proposal is added as in the official evaluator. Mean (J + F) / 2:
    #   region 0 vs obj 1: J = 1/4 each frame, F = 0           -> 0.125
    #   region 0 vs obj 2: J = .25, .25, 0, 0; F = 0, 0, 1, 1  -> 0.3125
    #   empty vs obj 1: 0;  empty vs obj 2: J = F = 0, 0, 1, 1 -> 0.5
    # Best: region 0 -> obj 1, empty -> obj 2 (0.625 > 0.3125).
    # J-Mean = (0.25 + 0.5) / 2, F-Mean = (0 + 0.5) / 2,
    # J-Recall = (0 + 2/4) / 2; with T = 4 the decay bins are frames 0..1
    # and 2..3: J-Decay = (0 + (0 - 1)) / 2, F-Decay the same.
    frames = []
    for t in range(4):
        gt = np.zeros((40, 40), np.uint8)
        gt[:, :10] = 1
        if t < 2:
            gt[:, 30:] = 2
        frames.append(_sample(np.zeros_like(gt), gt, 'v', t))
    res, log = _run(DAVISMetric(), frames)
    assert res == pytest.approx({
        'J&F-Mean': 31.25,
        'J-Mean': 37.5,
        'J-Recall': 25.0,
        'J-Decay': -50.0,
        'F-Mean': 25.0,
        'F-Recall': 25.0,
        'F-Decay': -50.0
    })
    assert _table_row(log, 'v', '1', '0')
    assert _table_row(log, 'v', '2', '-')  # matched to the padding


def test_objects_are_counted_in_the_first_frame():
    # Official: N = largest id of the first annotation. Object 2 appears
    # only in frame 1, so it is not scored; object 1 is perfect -> 100.
    gt0 = np.zeros((20, 20), np.uint8)
    gt0[2:8, 2:8] = 1
    gt1 = gt0.copy()
    gt1[12:18, 12:18] = 2
    pred0, pred1 = gt0, gt0  # object 2 is never predicted
    res, log = _run(DAVISMetric(),
                    [_sample(pred0, gt0, 's', 0),
                     _sample(pred1, gt1, 's', 1)])
    assert res['J&F-Mean'] == 100.0 and '1 objects' in log


def test_proposal_limit():
    # Region ids 0..20 are 21 proposals: over the official limit of 20.
    gt = np.zeros((21, 5), np.uint8)
    gt[3] = 1
    pred = np.repeat(np.arange(21, dtype=np.uint8)[:, None], 5, axis=1)
    with pytest.raises(ValueError, match='at most 20'):
        _run(DAVISMetric(), [_sample(pred, gt)])
    res, _ = _run(DAVISMetric(background_regions=[0]), [_sample(pred, gt)])
    assert res['J&F-Mean'] == 100.0  # region 3 == object 1 exactly
    with pytest.raises(ValueError, match='at most 2'):
        _run(DAVISMetric(max_proposals=2), [_sample(pred, gt)])


def test_semi_supervised_drops_first_and_last_frame():
    # Ids are object ids. Frames 0 and 3 are wrong (all background) and
    # not scored; frames 1 and 2 are perfect -> 100.
    gt = np.zeros((20, 20), np.uint8)
    gt[2:8, 2:8], gt[12:18, 12:18] = 1, 2
    wrong = np.zeros_like(gt)
    samples = [
        _sample(p, gt, 's', t) for t, p in enumerate([wrong, gt, gt, wrong])
    ]
    res, log = _run(DAVISMetric(task='semi-supervised'), samples)
    assert res['J&F-Mean'] == 100.0
    assert 'semi-supervised protocol' in log
    res, _ = _run(DAVISMetric(), samples)  # unsupervised scores all frames
    assert res['J-Mean'] == 50.0
    # Swapped ids are not matched in this task: J = F = 0 on frames 1, 2.
    swapped = np.choose(gt, [0, 2, 1]).astype(np.uint8)
    res, _ = _run(
        DAVISMetric(task='semi-supervised'),
        [_sample(swapped, gt, 's', t) for t in range(4)])
    assert res['J&F-Mean'] == 0.0
    # An id above the number of objects is an error.
    over = gt.copy()
    over[0, 0] = 3
    with pytest.raises(ValueError, match='object ids'):
        _run(
            DAVISMetric(task='semi-supervised'),
            [_sample(over, gt, 's', t) for t in range(3)])


def test_semi_supervised_treats_void_as_background():
    # Official: no void mask in this task, void pixels are background. GT
    # rows 0..49 with rows 50..52 void, prediction rows 0..52:
    # J = 50/53 and F = 0 on the scored middle frame.
    gt = _rows(0, 49)
    gt[50:53] = 255
    samples = [_sample(_rows(0, 52), gt, 's', t) for t in range(3)]
    res, _ = _run(DAVISMetric(task='semi-supervised'), samples)
    assert res['J-Mean'] == round(100 * 50 / 53, 2)
    assert res['F-Mean'] == 0.0


def test_frame_order_from_img_path_and_data_samples():
    # Without sequence metainfo the folder and file names are used; the
    # decay proves the frame order: frames 00000..00001 perfect, 00002..3
    # wrong (region 0 everywhere). Region 1 is matched (J = F = 1, 1, 0, 0;
    # region 0 only scores J = 0, 0, 1/4, 1/4, F = 1, 1, 0, 0 as a mask and
    # its complement share their boundary) -> J-Decay = 100 - 0.
    gt = np.zeros((20, 20), np.uint8)
    gt[:10, :10] = 1
    good, bad = gt, np.zeros_like(gt)
    samples = []
    for name, pred in (('00003', bad), ('00000', good), ('00002', bad),
                       ('00001', good)):
        sample = SegDataSample(
            metainfo=dict(img_path=f'/d/JPEGImages/480p/cows/{name}.jpg'))
        sample.pred_sem_seg = PixelData(data=torch.as_tensor(pred)[None])
        sample.gt_sem_seg = PixelData(data=torch.as_tensor(gt)[None])
        samples.append(sample)
    res, log = _run(DAVISMetric(), samples)
    assert res['J-Decay'] == 100.0 and res['J-Mean'] == 50.0
    assert _table_row(log, 'cows', '1', '1')


def test_incomplete_and_duplicate_frames_are_reported():
    gt = np.ones((4, 4), np.uint8)
    samples = [_sample(gt, gt, 's', 0, num_frames=3)] * 2
    res, log = _run(DAVISMetric(), samples)
    assert res['J&F-Mean'] == 100.0
    assert 'seen twice' in log and 'has 1 of 3 frames' in log


def test_bad_inputs():
    gt = np.ones((4, 4), np.uint8)
    with pytest.raises(ValueError, match='differ in size'):
        _run(DAVISMetric(), [_sample(np.ones((4, 5), np.uint8), gt)])
    with pytest.raises(KeyError, match='gt_sem_seg'):
        DAVISMetric().process({}, [dict(pred_sem_seg=dict(data=gt))])
    with pytest.raises(KeyError, match='frame_index'):
        _run(DAVISMetric(), [_sample(gt, gt, sequence=None)])


def test_no_object_gives_nan():
    gt = np.zeros((4, 4), np.uint8)
    res, log = _run(DAVISMetric(), [_sample(gt, gt)])
    assert np.isnan(res['J&F-Mean']) and 'no object' in log


@pytest.mark.skipif(
    not osp.isdir(SUBSET), reason='shared DAVIS subset not available')
def test_real_subset_ground_truth_as_prediction():
    """GT as prediction at 480p: 100; GT shifted 20 px: J and F drop."""
    from PIL import Image
    seq = 'car-shadow'
    ann_dir = osp.join(SUBSET, 'Annotations', '480p', seq)
    names = sorted(os.listdir(ann_dir))[:6]
    gts = [np.array(Image.open(osp.join(ann_dir, n))) for n in names]
    perfect = [
        _sample(np.where(g == 1, 2, 0).astype(np.uint8), g, seq, t)
        for t, g in enumerate(gts)
    ]
    res, _ = _run(DAVISMetric(), perfect)
    assert res['J&F-Mean'] == 100.0
    shifted = [
        _sample(
            np.roll(np.where(g == 1, 2, 0), 20, axis=1).astype(np.uint8), g,
            seq, t) for t, g in enumerate(gts)
    ]
    res, _ = _run(DAVISMetric(), shifted)
    assert 0 < res['J-Mean'] < 100 and 0 < res['F-Mean'] < 100
