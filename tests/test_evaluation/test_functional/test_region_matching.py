# Copyright (c) mmfactdiff contributors. All rights reserved.
import numpy as np
import pytest

from mmfactdiff.evaluation.functional import (fg_assignment, foreground_scores,
                                              foreground_scores_from_confusion,
                                              hungarian_match,
                                              mapped_confusion, matched_scores,
                                              region_confusion)

# 4x4 fixture used below. |G| = 8 (left half), |P| = 6 (top 2 rows x 3 cols).
GT_4x4 = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0]],
                  dtype=bool)
PRED_4x4 = np.array([[1, 1, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]],
                    dtype=bool)
# P:     tp = |P & G| = 4, fp = 2, fn = 4, tn = 16 - 10 = 6
#        Acc = 10/16, IoU = 4/10, DICE = 2*4/(6+8) = 4/7
# not-P: tp = 4, fp = 6, fn = 4, tn = 2
#        Acc = 6/16,  IoU = 4/14, DICE = 2*4/(10+8) = 4/9
P_SCORES = dict(acc=10 / 16, iou=4 / 10, dice=4 / 7)
NOT_P_SCORES = dict(acc=6 / 16, iou=4 / 14, dice=4 / 9)


def _assert_scores(scores, expected):
    assert set(scores) == {'acc', 'iou', 'dice'}
    for key, value in expected.items():
        assert scores[key] == pytest.approx(value), key


class TestForegroundScores:

    def test_no_polarity_scores_the_given_foreground(self):
        _assert_scores(
            foreground_scores(PRED_4x4, GT_4x4, polarity=False), P_SCORES)
        _assert_scores(
            foreground_scores(~PRED_4x4, GT_4x4, polarity=False), NOT_P_SCORES)

    def test_polarity_is_invariant_to_flipping_the_prediction(self):
        # P is the better polarity for all three metrics.
        _assert_scores(foreground_scores(PRED_4x4, GT_4x4), P_SCORES)
        _assert_scores(foreground_scores(~PRED_4x4, GT_4x4), P_SCORES)

    def test_polarity_is_chosen_per_metric(self):
        # |G| = 2, P empty.
        # P:     tp=0 fp=0  fn=2 tn=14 -> Acc 14/16, IoU 0,    DICE 0
        # not-P: tp=2 fp=14 fn=0 tn=0  -> Acc 2/16,  IoU 2/16, DICE 4/18
        # Acc keeps P, IoU and DICE keep not-P.
        gt = np.zeros((4, 4), dtype=bool)
        gt[0, :2] = True
        pred = np.zeros((4, 4), dtype=bool)
        _assert_scores(
            foreground_scores(pred, gt),
            dict(acc=14 / 16, iou=2 / 16, dice=4 / 18))
        _assert_scores(
            foreground_scores(pred, gt, polarity=False),
            dict(acc=14 / 16, iou=0.0, dice=0.0))

    def test_both_empty_is_a_perfect_score(self):
        empty = np.zeros((2, 2), dtype=bool)
        full = np.ones((2, 2), dtype=bool)
        perfect = dict(acc=1.0, iou=1.0, dice=1.0)
        _assert_scores(foreground_scores(empty, empty), perfect)
        _assert_scores(
            foreground_scores(empty, empty, polarity=False), perfect)
        # A full prediction of an empty GT: P scores 0, but not-P is empty
        # like G, so the polarity rule gives a perfect score.
        _assert_scores(
            foreground_scores(full, empty, polarity=False),
            dict(acc=0.0, iou=0.0, dice=0.0))
        _assert_scores(foreground_scores(full, empty), perfect)

    def test_valid_mask_drops_pixels(self):
        # Drop column 2: P loses its 2 fp and 2 tn pixels go too.
        # P:     tp=4 fp=0 fn=4 tn=4 -> Acc 8/12, IoU 4/8,  DICE 8/12
        # not-P: tp=4 fp=4 fn=4 tn=0 -> Acc 4/12, IoU 4/12, DICE 8/16
        valid = np.ones((4, 4), dtype=bool)
        valid[:, 2] = False
        _assert_scores(
            foreground_scores(PRED_4x4, GT_4x4, valid=valid),
            dict(acc=8 / 12, iou=4 / 8, dice=8 / 12))

    def test_no_valid_pixel_gives_nan(self):
        scores = foreground_scores(
            PRED_4x4, GT_4x4, valid=np.zeros((4, 4), dtype=bool))
        assert all(np.isnan(v) for v in scores.values())

    def test_shape_mismatch_raises(self):
        with pytest.raises(ValueError):
            foreground_scores(PRED_4x4, GT_4x4[:2])

    def test_from_confusion_matches_pixel_version(self):
        # Regions: 1 = P, 0 = G below P, 2 = the rest (column 3 and
        # column 2 below row 1); fg_regions picks region 1 only.
        regions = np.array([[1, 1, 1, 2], [1, 1, 1, 2], [0, 0, 2, 2],
                            [0, 0, 2, 2]])
        conf = region_confusion(regions, GT_4x4.astype(int), 3, 2)
        _assert_scores(
            foreground_scores_from_confusion(
                conf, np.array([False, True, False]), polarity=False),
            P_SCORES)


class TestRegionConfusion:

    def test_counts_and_ignore(self):
        pred = np.array([[0, 1, 2], [2, 2, 1]])
        gt = np.array([[0, 1, 255], [1, 1, 0]])
        # (0,2) is ignored; the other pixels give
        # r0: one c0; r1: one c1, one c0; r2: two c1.
        expected = np.array([[1, 0], [1, 1], [0, 2]])
        np.testing.assert_array_equal(
            region_confusion(pred, gt, 3, 2), expected)

    def test_custom_ignore_index(self):
        pred = np.array([0, 1, 1])
        gt = np.array([0, 1, 0])
        np.testing.assert_array_equal(
            region_confusion(pred, gt, 2, 2, ignore_index=0), [[0, 0], [0, 1]])

    def test_out_of_range_ids_raise(self):
        with pytest.raises(ValueError):
            region_confusion(np.array([0, 3]), np.array([0, 1]), 3, 2)
        with pytest.raises(ValueError):
            region_confusion(np.array([0, 1]), np.array([0, 2]), 3, 2)
        with pytest.raises(ValueError):
            region_confusion(np.array([0, 1]), np.array([0, 1, 1]), 3, 2)


class TestHungarianMatch:

    def test_permutation(self):
        conf = np.array([[0, 10, 0], [0, 0, 8], [6, 0, 1]])
        assert hungarian_match(conf) == {0: 1, 1: 2, 2: 0}

    def test_maximises_iou_not_matched_pixels(self):
        # region sizes 70, 45; class sizes 105, 10.
        # identity: IoU(r0,c0) = 60/(70+105-60) = 0.522, IoU(r1,c1) = 0
        #           -> 0.522, but 60 matched pixels
        # swap:     IoU(r0,c1) = 10/(70+10-10) = 0.143,
        #           IoU(r1,c0) = 45/(45+105-45) = 0.429
        #           -> 0.571, only 55 matched pixels
        # Variant 1 (maximise IoU) must pick the swap.
        conf = np.array([[60, 10], [45, 0]])
        mapping = hungarian_match(conf)
        assert mapping == {0: 1, 1: 0}
        scores = matched_scores(conf, mapping)
        # merged rows (pred class) = [[45, 0], [60, 10]]
        # IoU c0 = 45/105, c1 = 10/70; Acc c0 = 45/105, c1 = 10/10
        np.testing.assert_allclose(scores['IoU'], [45 / 105, 10 / 70])
        np.testing.assert_allclose(scores['Acc'], [45 / 105, 1.0])
        assert scores['mIoU'] == pytest.approx((45 / 105 + 10 / 70) / 2)
        assert scores['aAcc'] == pytest.approx(55 / 115)
        assert scores['mAcc'] == pytest.approx((45 / 105 + 1.0) / 2)

    def test_more_regions_than_classes(self):
        # r0 -> c0 (IoU 30/40), r1 -> c1 (IoU 20/25); r2 is left over.
        conf = np.array([[30, 0], [0, 20], [10, 5]])
        mapping = hungarian_match(conf)
        assert mapping == {0: 0, 1: 1, 2: 0}
        # r2 counts as background: pred c0 = [40, 5], pred c1 = [0, 20]
        # IoU c0 = 40/(45+40-40), c1 = 20/(20+25-20); aAcc = (40+20)/65
        scores = matched_scores(conf, mapping)
        np.testing.assert_allclose(scores['IoU'], [40 / 45, 20 / 25])
        assert scores['aAcc'] == pytest.approx(60 / 65)
        # Leftovers can be sent to another class.
        mapping = hungarian_match(conf, unmatched_class=1)
        assert mapping == {0: 0, 1: 1, 2: 1}
        # pred c0 = [30, 0], pred c1 = [10, 25]
        # IoU c0 = 30/40, c1 = 25/(35+25-25)
        np.testing.assert_allclose(
            matched_scores(conf, mapping)['IoU'], [30 / 40, 25 / 35])

    def test_fewer_regions_than_classes(self):
        # Class 2 gets no region: IoU 0 (5 GT pixels, nothing predicted).
        # Class 3 never occurs and is never predicted: NaN, left out.
        conf = np.array([[20, 0, 0, 0], [0, 15, 5, 0]])
        mapping = hungarian_match(conf)
        assert mapping == {0: 0, 1: 1}
        scores = matched_scores(conf, mapping)
        # IoU c1 = 15/(20+15-15)
        np.testing.assert_allclose(scores['IoU'][:3], [1.0, 0.75, 0.0])
        assert np.isnan(scores['IoU'][3])
        assert scores['mIoU'] == pytest.approx(1.75 / 3)
        assert scores['aAcc'] == pytest.approx(35 / 40)

    def test_region_relabelling_changes_nothing(self):
        conf = np.array([[30, 2, 1], [4, 25, 3], [0, 6, 12], [5, 5, 5]])
        reference = matched_scores(conf, hungarian_match(conf))
        perm = np.array([2, 0, 3, 1])
        permuted = conf[perm]
        scores = matched_scores(permuted, hungarian_match(permuted))
        for key in ('mIoU', 'aAcc', 'mAcc'):
            assert scores[key] == pytest.approx(reference[key])
        np.testing.assert_allclose(scores['IoU'], reference['IoU'])

    def test_bad_unmatched_class_raises(self):
        with pytest.raises(ValueError):
            hungarian_match(np.ones((3, 2)), unmatched_class=2)


class TestMappedConfusion:

    def test_merges_rows(self):
        conf = np.array([[1, 2], [3, 4], [5, 6]])
        np.testing.assert_array_equal(
            mapped_confusion(conf, {
                0: 1,
                1: 0,
                2: 1
            }), [[3, 4], [6, 8]])

    def test_missing_region_raises(self):
        with pytest.raises(ValueError):
            mapped_confusion(np.ones((2, 2)), {0: 0})
        with pytest.raises(ValueError):
            mapped_confusion(np.ones((2, 2)), {0: 0, 1: 2})


def test_fg_assignment_majority_of_gt_pixels():
    conf = np.array([[10, 2], [3, 9], [4, 4], [0, 0]])
    # Ties and empty regions go to background.
    np.testing.assert_array_equal(
        fg_assignment(conf), [False, True, False, False])
    with pytest.raises(ValueError):
        fg_assignment(np.ones((3, 3)))
