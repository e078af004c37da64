# Copyright (c) mmfactdiff contributors. All rights reserved.
"""DAVIS J / F measures on hand-made masks whose values are known exactly."""
import numpy as np
import pytest

from mmfactdiff.evaluation.functional.davis_measures import (
    boundary_tolerance, db_eval_boundary, db_eval_iou, db_statistics,
    f_measure, pairwise_j_and_f, seg2bmap, unsupervised_assignment)


def _rows(top, bottom, shape=(100, 100)):
    """Full-width band of rows ``top..bottom`` (inclusive)."""
    mask = np.zeros(shape, dtype=bool)
    mask[top:bottom + 1] = True
    return mask


def _rect(y0, y1, x0, x1, shape=(10, 10)):
    """Rectangle of rows y0..y1 and columns x0..x1 (inclusive)."""
    mask = np.zeros(shape, dtype=bool)
    mask[y0:y1 + 1, x0:x1 + 1] = True
    return mask


# ---------------------------------------------------------------- J


def test_iou_two_rectangles():
    # GT rows 2..5 x cols 2..5 (16 px), prediction rows 4..7 x cols 2..5
    # (16 px); overlap rows 4..5 (8 px), union 24 -> J = 8 / 24 = 1/3.
    gt, pred = _rect(2, 5, 2, 5), _rect(4, 7, 2, 5)
    assert db_eval_iou(gt, pred) == pytest.approx(1 / 3)
    assert db_eval_iou(gt, gt) == 1.0
    # Void over the prediction-only rows 6..7 (8 px) leaves the overlap and
    # shrinks the union to 16 -> J = 1/2.
    void = _rect(6, 7, 0, 9)
    assert db_eval_iou(gt, pred, void) == pytest.approx(0.5)


def test_iou_empty_cases():
    empty, gt = np.zeros((10, 10), bool), _rect(2, 5, 2, 5)
    assert db_eval_iou(empty, empty) == 1.0  # empty union counts as 1
    assert db_eval_iou(gt, empty) == 0.0
    assert db_eval_iou(empty, gt) == 0.0
    # Everything of both masks is void: the union is empty again.
    assert db_eval_iou(gt, gt, void=gt) == 1.0


def test_iou_stacked_frames():
    gt = np.stack([_rect(2, 5, 2, 5), np.zeros((10, 10), bool)])
    pred = np.stack([_rect(4, 7, 2, 5), _rect(0, 0, 0, 0)])
    np.testing.assert_allclose(db_eval_iou(gt, pred), [1 / 3, 0.0])
    with pytest.raises(ValueError):
        db_eval_iou(gt, pred[:, :5])


# ---------------------------------------------------------------- seg2bmap


def test_seg2bmap_square():
    # 3x3 square at rows/cols 2..4. A pixel is on the boundary when its
    # east, south or south-east neighbour differs: inside, the right column
    # (col 4) and bottom row (row 4); outside, row 1 cols 1..4 and col 1
    # rows 1..4 (pixel (1, 1) through its south-east neighbour).
    expected = np.zeros((8, 8), bool)
    expected[2:5, 4] = True
    expected[4, 2:5] = True
    expected[1, 1:5] = True
    expected[1:5, 1] = True
    bmap = seg2bmap(_rect(2, 4, 2, 4, (8, 8)))
    np.testing.assert_array_equal(bmap, expected)
    assert bmap.sum() == 12


def test_seg2bmap_image_border_is_no_boundary():
    # A full image has no boundary; the left half (cols 0..3 of 8) has its
    # boundary in col 3 only, including the last row (east compare only).
    assert not seg2bmap(np.ones((8, 8), bool)).any()
    half = np.zeros((8, 8), bool)
    half[:, :4] = True
    expected = np.zeros((8, 8), bool)
    expected[:, 3] = True
    np.testing.assert_array_equal(seg2bmap(half), expected)


# ---------------------------------------------------------------- F


def test_boundary_tolerance():
    # ceil(0.008 * hypot(480, 854)) = ceil(7.84) = 8 at DAVIS 480p;
    # ceil(0.008 * 141.4) = ceil(1.13) = 2 at 100x100; >= 1 means pixels.
    assert boundary_tolerance((480, 854)) == 8
    assert boundary_tolerance((100, 100)) == 2
    assert boundary_tolerance((100, 100), 3) == 3


def test_f_identity_and_shifts():
    # 100x100 images: tolerance 2 px. GT = rows 0..49, boundary = row 49.
    gt = _rows(0, 49)
    assert f_measure(gt, gt) == 1.0
    # Prediction rows 0..51: boundary row 51, 2 px from GT's: within the
    # disk of radius 2 -> P = R = 1, F = 1 (J = 50/52).
    assert f_measure(_rows(0, 51), gt) == 1.0
    # Rows 0..52: boundary row 52 is 3 px away -> P = R = 0 -> F = 0.
    assert f_measure(_rows(0, 52), gt) == 0.0
    assert db_eval_iou(gt, _rows(0, 52)) == pytest.approx(50 / 53)


def test_f_partial_match():
    # GT rows 0..49 (boundary: row 49, 100 px). The prediction is rows
    # 0..49 in cols 0..49 and rows 0..59 in cols 50..99: its boundary is
    # row 49 cols 0..49 (50 px), row 59 cols 50..99 (50 px) and col 49
    # rows 50..59 (10 px) = 110 px. Within 2 px of GT's row 49: row 49
    # cols 0..49 and col 49 rows 50..51 -> 52 / 110. GT pixels within 2 px
    # of the prediction's boundary: cols 0..49, col 50 (diagonal to
    # (50, 49)) and col 51 (2 px from (49, 49)) -> 52 / 100.
    # F = 2PR / (P + R) = 2 * 52 / (110 + 100) = 52 / 105.
    gt = _rows(0, 49)
    pred = _rows(0, 49)
    pred[:60, 50:] = True
    assert f_measure(pred, gt) == pytest.approx(52 / 105)


def test_f_empty_cases():
    gt, empty = _rows(0, 49), np.zeros((100, 100), bool)
    full = np.ones((100, 100), bool)
    # No predicted boundary: P = 1, R = 0 -> F = 0; no GT boundary:
    # P = 0, R = 1 -> F = 0; neither: P = R = 1 -> F = 1.
    assert f_measure(empty, gt) == 0.0
    assert f_measure(full, gt) == 0.0  # a full mask has no boundary either
    assert f_measure(gt, empty) == 0.0
    assert f_measure(empty, empty) == 1.0
    assert f_measure(full, empty) == 1.0


def test_f_void_removes_pixels_before_boundaries():
    # Rows 0..52 vs GT rows 0..49 gives F = 0 (above); with rows 50..99
    # void both masks become rows 0..49 and F = 1.
    void = _rows(50, 99)
    assert f_measure(_rows(0, 52), _rows(0, 49), void) == 1.0


def test_db_eval_boundary_per_frame():
    gt = np.stack([_rows(0, 49)] * 3)
    pred = np.stack([_rows(0, 49), _rows(0, 51), _rows(0, 52)])
    np.testing.assert_allclose(db_eval_boundary(gt, pred), [1, 1, 0])
    assert db_eval_boundary(gt[0], pred[2]) == 0.0


def test_pairwise_matches_single_pair_functions():
    rng = np.random.default_rng(0)
    props = rng.random((4, 30, 40)) < 0.3
    props[0] = False  # an empty proposal
    props[1] = _rect(3, 20, 5, 30, (30, 40))
    objs = np.stack([_rect(5, 22, 5, 28, (30, 40)), np.zeros((30, 40), bool)])
    void = _rect(0, 2, 0, 39, (30, 40))
    j, f = pairwise_j_and_f(props, objs, void)
    assert j.shape == f.shape == (4, 2)
    for p in range(4):
        for o in range(2):
            assert j[p,
                     o] == pytest.approx(db_eval_iou(objs[o], props[p], void))
            assert f[p, o] == pytest.approx(f_measure(props[p], objs[o], void))


# ---------------------------------------------------------------- statistics


def test_statistics_constructed_sequence():
    # T = 9: bin edges round(linspace(1, 9, 5)) - 1 = 0, 2, 4, 6, 8; the
    # first bin is frames 0..2, the last frames 6..8.
    values = [1, 1, 1, 0.6, 0.4, 0.2, 0, 0, 0.3]
    mean, recall, decay = db_statistics(values)
    assert mean == pytest.approx(4.5 / 9)
    assert recall == pytest.approx(4 / 9)  # 1, 1, 1, 0.6 are > 0.5
    assert decay == pytest.approx(1 - 0.1)


def test_statistics_bins_share_their_edge_frame():
    # T = 50: linspace(1, 50, 5) = 1, 13.25, 25.5, 37.75, 50 -> edges
    # 0, 12, 25, 37, 49; the first bin is frames 0..12 inclusive (13).
    values = np.zeros(50)
    values[:12] = 1  # frames 0..11
    assert db_statistics(values)[2] == pytest.approx(12 / 13)
    values[12] = 1  # now the whole first bin
    assert db_statistics(values)[2] == pytest.approx(1.0)
    # Halves round up: T = 4 gives edges 0, 1, 2, 2, 3.
    assert db_statistics([1, 1, 0, 0])[2] == pytest.approx(1.0)


def test_statistics_edge_cases():
    assert db_statistics([0.5, 0.51])[1] == 0.5  # strictly greater
    mean, recall, decay = db_statistics([np.nan, 1.0])
    assert mean == 1.0 and recall == 0.5  # NaN: skipped in mean, a miss
    assert db_statistics([0.7]) == (0.7, 1.0, 0.0)
    assert all(np.isnan(db_statistics([])))


# ---------------------------------------------------------------- assignment


def test_assignment_is_not_greedy():
    # (J + F) / 2 averaged over frames:
    #          obj 0  obj 1
    #   p0     0.90   0.80
    #   p1     0.85   0.10
    #   p2     0.20   0.30
    # Greedy (best pair first) takes p0-obj0 then p2-obj1: 1.20. The
    # optimum is p1-obj0 + p0-obj1 = 1.65.
    score = np.array([[0.9, 0.8], [0.85, 0.1], [0.2, 0.3]])
    # Two frames that differ but average to the score; F = J.
    j = np.stack([score + 0.05, score - 0.05], axis=-1)
    assignment, j_matched, f_matched = unsupervised_assignment(j, j.copy())
    np.testing.assert_array_equal(assignment, [1, 0])
    np.testing.assert_allclose(j_matched, [[0.9, 0.8], [0.85, 0.75]])
    np.testing.assert_allclose(f_matched, j_matched)


def test_assignment_uses_j_plus_f():
    # J alone prefers p0 for the object, (J + F) / 2 prefers p1.
    j = np.array([[[0.8]], [[0.6]]])
    f = np.array([[[0.1]], [[0.6]]])
    assert unsupervised_assignment(j, f)[0].tolist() == [1]


def test_assignment_fewer_proposals_than_objects():
    j = np.full((1, 2, 3), 0.5)
    j[0, 1] = 0.9
    assignment, j_matched, _ = unsupervised_assignment(j, j)
    assert assignment.tolist() == [-1, 0]
    np.testing.assert_allclose(j_matched, [[0, 0, 0], [0.9, 0.9, 0.9]])
    with pytest.raises(ValueError):
        unsupervised_assignment(j, j[:, :, :2])
