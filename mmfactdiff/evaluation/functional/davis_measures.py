# Copyright (c) mmfactdiff contributors. All rights reserved.
"""DAVIS 2017 region (J) and boundary (F) measures.

An independent re-implementation of the definitions used by the official
``davis2017-evaluation`` toolkit (github.com/davisvideochallenge/
davis2017-evaluation, commit ac7c43f). Every place where a choice follows
that code cites the file and line of it (``metrics.py``, ``utils.py``,
``evaluation.py``). Only numpy, scipy and OpenCV are used, so the module can
be imported without mmengine.

Array conventions: masks are boolean (or 0/1) arrays of shape ``(H, W)`` or
stacked ``(..., H, W)``; ``void`` marks pixels that are ignored (DAVIS id
255).
"""
import math
import warnings
from typing import Optional, Tuple, Union

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

# metrics.py L40: boundary tolerance as a fraction of the image diagonal.
DEFAULT_BOUND_TH = 0.008

# A float32 sum of 0/1 values is exact below 2**24 terms; above that the
# pairwise counts fall back to float64.
_FLOAT32_EXACT = 2**24

ArrayOrFloat = Union[np.ndarray, float]


def db_eval_iou(annotation: np.ndarray,
                segmentation: np.ndarray,
                void: Optional[np.ndarray] = None) -> ArrayOrFloat:
    """Region similarity J (Jaccard index) of binary masks.

    J = |M and G| / |M or G| counted over non-void pixels; J = 1 when the
    union is empty (both masks empty), as in ``metrics.py`` L29-L36.

    Args:
        annotation (np.ndarray): Ground-truth mask(s), ``(..., H, W)``.
        segmentation (np.ndarray): Predicted mask(s), same shape.
        void (np.ndarray, optional): Void pixels, same shape. Defaults to
            None (no void pixels).

    Returns:
        float | np.ndarray: J of each ``(H, W)`` slice; a float for 2-D
        inputs.
    """
    annotation = np.asarray(annotation).astype(bool)
    segmentation = np.asarray(segmentation).astype(bool)
    if annotation.shape != segmentation.shape:
        raise ValueError(f'annotation {annotation.shape} and segmentation '
                         f'{segmentation.shape} shapes differ.')
    valid = _valid_pixels(annotation.shape, void)
    inter = np.sum(annotation & segmentation & valid, axis=(-2, -1))
    union = np.sum((annotation | segmentation) & valid, axis=(-2, -1))
    with np.errstate(invalid='ignore', divide='ignore'):
        j = np.where(union == 0, 1.0, inter / np.maximum(union, 1))
    return float(j) if j.ndim == 0 else j


def seg2bmap(seg: np.ndarray) -> np.ndarray:
    """One-pixel-wide boundary map of a binary mask.

    A pixel is a boundary pixel when it differs from any of its east, south
    or south-east neighbours that lie inside the image. This is the rule of
    ``_seg2bmap`` in ``metrics.py`` L154-L165 (after David Martin's BSDS
    code): boundaries sit on the pixel nearer the origin, the image border
    itself never creates a boundary, and the last row / last column compare
    only along the border. The official optional resampling to another
    ``width x height`` is not implemented (DAVIS never uses it).

    Args:
        seg (np.ndarray): Binary mask ``(H, W)``; any non-zero is foreground.

    Returns:
        np.ndarray: Boolean boundary map ``(H, W)``.
    """
    seg = np.asarray(seg).astype(bool)
    if seg.ndim != 2:
        raise ValueError(f'seg2bmap expects a 2-D mask, got {seg.shape}.')
    bmap = np.zeros_like(seg)
    bmap[:, :-1] |= seg[:, :-1] != seg[:, 1:]
    bmap[:-1, :] |= seg[:-1, :] != seg[1:, :]
    bmap[:-1, :-1] |= seg[:-1, :-1] != seg[1:, 1:]
    return bmap


def boundary_tolerance(shape: Tuple[int, int],
                       bound_th: float = DEFAULT_BOUND_TH) -> int:
    """Boundary match tolerance in pixels.

    ``bound_th`` < 1 is a fraction of the image diagonal, rounded up
    (``ceil(bound_th * sqrt(H**2 + W**2))``, ``metrics.py`` L77-L78); a value
    >= 1 is a pixel count. For 480p DAVIS (854 x 480) this is 8 pixels.

    Args:
        shape (tuple[int, int]): ``(H, W)`` of the masks.
        bound_th (float): Tolerance. Defaults to 0.008.

    Returns:
        int: Disk radius in pixels.
    """
    if bound_th >= 1:
        return int(math.ceil(bound_th))
    return int(math.ceil(bound_th * math.hypot(shape[0], shape[1])))


def _disk(radius: int) -> np.ndarray:
    """Euclidean disk ``x**2 + y**2 <= r**2`` of size ``2r+1`` (uint8).

    Same footprint as ``skimage.morphology.disk`` that the official code uses
    (``metrics.py`` L84-L89).
    """
    grid = np.arange(-radius, radius + 1)
    return ((grid[:, None]**2 + grid[None, :]**2)
            <= radius**2).astype(np.uint8)


def _dilate(bmap: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Binary dilation; pixels outside the image never count as set."""
    if not bmap.any():
        return np.zeros(bmap.shape, dtype=bool)
    # cv2.dilate pads with the dilation-neutral value by default.
    return cv2.dilate(bmap.astype(np.uint8), kernel).astype(bool)


def _f_from_counts(fg_match: np.ndarray, n_fg: np.ndarray,
                   gt_match: np.ndarray, n_gt: np.ndarray) -> np.ndarray:
    """F = 2PR / (P + R) with the edge cases of ``metrics.py`` L100-L117.

    No predicted boundary (GT has one): P=1, R=0. No GT boundary (prediction
    has one): P=0, R=1. Neither has a boundary: P=R=1. P+R=0: F=0.
    """
    fg_match, n_fg, gt_match, n_gt = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.float64)
          for a in (fg_match, n_fg, gt_match, n_gt)))
    # An empty boundary has an empty dilation, so the one-sided cases
    # (P=1, R=0 and P=0, R=1) follow from the match counts being 0; only
    # the empty denominators need a value.
    precision = np.where(n_fg > 0, fg_match / np.maximum(n_fg, 1), 1.0)
    recall = np.where(n_gt > 0, gt_match / np.maximum(n_gt, 1), 1.0)
    denom = precision + recall
    return np.where(denom > 0,
                    2 * precision * recall / np.where(denom > 0, denom, 1),
                    0.0)


def f_measure(foreground_mask: np.ndarray,
              gt_mask: np.ndarray,
              void: Optional[np.ndarray] = None,
              bound_th: float = DEFAULT_BOUND_TH) -> float:
    """Boundary F-measure of one frame.

    Boundaries are taken from the masks with void pixels set to background
    (``metrics.py`` L81-L82); each boundary pixel matches when it lies
    within a disk of :func:`boundary_tolerance` pixels of the other boundary.
    Precision = matched predicted boundary pixels / predicted boundary
    pixels, recall symmetric, F = 2PR / (P + R) (edge cases in
    ``_f_from_counts``).

    Args:
        foreground_mask (np.ndarray): Predicted binary mask ``(H, W)``.
        gt_mask (np.ndarray): Ground-truth binary mask ``(H, W)``.
        void (np.ndarray, optional): Void pixels ``(H, W)``. Defaults to
            None.
        bound_th (float): Tolerance, see :func:`boundary_tolerance`.
            Defaults to 0.008.

    Returns:
        float: F in [0, 1].
    """
    _, f = pairwise_j_and_f(
        np.asarray(foreground_mask)[None],
        np.asarray(gt_mask)[None], void, bound_th)
    return float(f[0, 0])


def db_eval_boundary(annotation: np.ndarray,
                     segmentation: np.ndarray,
                     void: Optional[np.ndarray] = None,
                     bound_th: float = DEFAULT_BOUND_TH) -> ArrayOrFloat:
    """Boundary F-measure per frame (``metrics.py`` L40-L54).

    Args:
        annotation (np.ndarray): GT masks, ``(H, W)`` or ``(T, H, W)``.
        segmentation (np.ndarray): Predicted masks, same shape.
        void (np.ndarray, optional): Void pixels, same shape. Defaults to
            None.
        bound_th (float): Tolerance, see :func:`boundary_tolerance`.

    Returns:
        float | np.ndarray: F per frame; a float for 2-D inputs.
    """
    annotation = np.asarray(annotation)
    segmentation = np.asarray(segmentation)
    if annotation.shape != segmentation.shape:
        raise ValueError(f'annotation {annotation.shape} and segmentation '
                         f'{segmentation.shape} shapes differ.')
    if annotation.ndim == 2:
        return f_measure(segmentation, annotation, void, bound_th)
    if annotation.ndim != 3:
        raise ValueError('db_eval_boundary expects (H, W) or (T, H, W), got '
                         f'{annotation.shape}.')
    return np.array([
        f_measure(segmentation[t], annotation[t],
                  None if void is None else void[t], bound_th)
        for t in range(annotation.shape[0])
    ])


def pairwise_j_and_f(
        proposals: np.ndarray,
        objects: np.ndarray,
        void: Optional[np.ndarray] = None,
        bound_th: float = DEFAULT_BOUND_TH) -> Tuple[np.ndarray, np.ndarray]:
    """J and F of every (proposal, object) pair of one frame.

    Gives the same numbers as :func:`db_eval_iou` and :func:`f_measure`
    pair by pair, but each mask's boundary and dilated boundary are computed
    once (P + O dilations instead of 2 * P * O), which makes the unsupervised
    protocol (up to 20 proposals per object) affordable.

    Args:
        proposals (np.ndarray): Predicted binary masks ``(P, H, W)``.
        objects (np.ndarray): Ground-truth binary masks ``(O, H, W)``.
        void (np.ndarray, optional): Void pixels ``(H, W)``. Defaults to
            None.
        bound_th (float): Tolerance, see :func:`boundary_tolerance`.

    Returns:
        tuple[np.ndarray, np.ndarray]: J and F, each ``(P, O)`` float64.
    """
    proposals = np.asarray(proposals).astype(bool)
    objects = np.asarray(objects).astype(bool)
    if proposals.ndim != 3 or objects.ndim != 3 or \
            proposals.shape[1:] != objects.shape[1:]:
        raise ValueError('expected proposals (P, H, W) and objects (O, H, W) '
                         f'of one size, got {proposals.shape} and '
                         f'{objects.shape}.')
    shape = objects.shape[1:]
    valid = _valid_pixels(shape, void)
    # Void pixels are neither counted in J (metrics.py L29-L30) nor part of
    # the masks whose boundaries F compares (metrics.py L81-L82).
    props = proposals & valid
    objs = objects & valid
    num_pixels = shape[0] * shape[1]
    dtype = np.float32 if num_pixels < _FLOAT32_EXACT else np.float64

    def flat(masks):
        return masks.reshape(masks.shape[0], num_pixels).astype(dtype)

    inter = (flat(props) @ flat(objs).T).astype(np.float64)
    union = props.sum((1, 2))[:, None] + objs.sum((1, 2))[None, :] - inter
    j = np.where(union == 0, 1.0, inter / np.maximum(union, 1))

    kernel = _disk(boundary_tolerance(shape, bound_th))
    prop_b = np.stack([seg2bmap(m) for m in props]) if len(props) else \
        np.zeros((0, *shape), bool)
    obj_b = np.stack([seg2bmap(m) for m in objs]) if len(objs) else \
        np.zeros((0, *shape), bool)
    prop_d = np.stack([_dilate(b, kernel) for b in prop_b]) if len(props) \
        else prop_b
    obj_d = np.stack([_dilate(b, kernel) for b in obj_b]) if len(objs) \
        else obj_b
    fg_match = (flat(prop_b) @ flat(obj_d).T).astype(np.float64)
    gt_match = (flat(prop_d) @ flat(obj_b).T).astype(np.float64)
    n_fg = prop_b.sum((1, 2))[:, None]
    n_gt = obj_b.sum((1, 2))[None, :]
    return j, _f_from_counts(fg_match, n_fg, gt_match, n_gt)


def db_statistics(per_frame_values: np.ndarray) -> Tuple[float, float, float]:
    """Mean, Recall and Decay of one object's per-frame J (or F).

    Follows ``utils.py`` L135-L161:

    - Mean = nanmean over frames.
    - Recall = fraction of frames with a value > 0.5; NaN frames count as
      misses but stay in the denominator (``nanmean(values > 0.5)``).
    - Decay = nanmean of the first minus nanmean of the last of 4 temporal
      bins. Bin edges are ``round(linspace(1, T, 5)) - 1`` (halves rounded
      up) and bin ``i`` spans ``edges[i]..edges[i+1]`` inclusive, so
      neighbouring bins share their edge frame. (The official code stores
      the edges as uint8, which would wrap for sequences over 256 frames; no
      DAVIS sequence is that long, and plain ints are used here.)

    Args:
        per_frame_values (np.ndarray): Values of one object, ``(T,)``.

    Returns:
        tuple[float, float, float]: ``(mean, recall, decay)``; NaN for an
        empty input.
    """
    values = np.asarray(per_frame_values, dtype=np.float64).reshape(-1)
    if values.size == 0:
        return math.nan, math.nan, math.nan
    with warnings.catch_warnings():
        # An all-NaN input legitimately gives NaN statistics.
        warnings.simplefilter('ignore', category=RuntimeWarning)
        mean = float(np.nanmean(values))
        recall = float(np.mean(values > 0.5))
        edges = (np.round(np.linspace(1, values.size, 5) + 1e-10) - 1).astype(
            np.int64)
        first = values[edges[0]:edges[1] + 1]
        last = values[edges[3]:edges[4] + 1]
        decay = float(np.nanmean(first) - np.nanmean(last))
    return mean, recall, decay


def unsupervised_assignment(
        j_scores: np.ndarray,
        f_scores: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Match proposals to GT objects (DAVIS unsupervised task).

    Hungarian assignment maximising ``(mean_t J + mean_t F) / 2`` over
    (proposal, object) pairs, one proposal per object and vice versa
    (``evaluation.py`` L59-L64). The official evaluator first pads the
    proposals with empty masks up to the number of objects (L48-L50), so
    every object is matched; callers that want the exact official numbers
    do that padding at mask level (an empty proposal still scores J = F = 1
    on frames where the object is absent). Called directly with fewer
    proposals than objects, the unmatched objects get proposal -1 and score
    0 in every frame.

    Unlike the official code, which returns the matched pairs in proposal
    order and then labels them ``<seq>_1, <seq>_2, ...`` (L91-L92), the
    results here are ordered by GT object. The global numbers are the same.

    Args:
        j_scores (np.ndarray): J per (proposal, object, frame), ``(P, O, T)``.
        f_scores (np.ndarray): F per (proposal, object, frame), same shape.

    Returns:
        tuple[np.ndarray, np.ndarray, np.ndarray]: ``assignment`` ``(O,)``
        proposal index matched to each object (-1 when unmatched),
        ``j_matched`` and ``f_matched`` ``(O, T)``.
    """
    j_scores = np.asarray(j_scores, dtype=np.float64)
    f_scores = np.asarray(f_scores, dtype=np.float64)
    if j_scores.shape != f_scores.shape or j_scores.ndim != 3:
        raise ValueError('j_scores and f_scores must both be (proposals, '
                         f'objects, frames), got {j_scores.shape} and '
                         f'{f_scores.shape}.')
    num_props, num_objs, num_frames = j_scores.shape
    if num_frames == 0:
        raise ValueError('unsupervised_assignment needs at least one frame.')
    assignment = np.full(num_objs, -1, dtype=np.int64)
    j_matched = np.zeros((num_objs, num_frames))
    f_matched = np.zeros((num_objs, num_frames))
    if num_props == 0 or num_objs == 0:
        return assignment, j_matched, f_matched
    # Plain mean over frames, as the official score (J and F are never NaN).
    score = (j_scores.mean(axis=2) + f_scores.mean(axis=2)) / 2
    rows, cols = linear_sum_assignment(-score)
    assignment[cols] = rows
    j_matched[cols] = j_scores[rows, cols]
    f_matched[cols] = f_scores[rows, cols]
    return assignment, j_matched, f_matched


def _valid_pixels(shape: Tuple[int, ...],
                  void: Optional[np.ndarray]) -> np.ndarray:
    """Boolean mask of non-void pixels, broadcastable to ``shape``."""
    if void is None:
        return np.ones(shape[-2:], dtype=bool)
    void = np.asarray(void).astype(bool)
    if void.shape[-2:] != tuple(shape[-2:]):
        raise ValueError(f'void {void.shape} does not match masks {shape}.')
    return ~void
