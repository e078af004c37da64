# Copyright (c) mmfactdiff contributors. All rights reserved.
"""DAVIS 2017 J&F metric (unsupervised and semi-supervised protocols)."""
import logging
import os.path as osp
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmengine.structures import BaseDataElement
from prettytable import PrettyTable

from mmfactdiff.registry import METRICS
from ..functional.davis_measures import (DEFAULT_BOUND_TH, db_statistics,
                                         pairwise_j_and_f,
                                         unsupervised_assignment)
from .label_maps import label_map

_TASKS = ('unsupervised', 'semi-supervised')
_KEYS = ('J&F-Mean', 'J-Mean', 'J-Recall', 'J-Decay', 'F-Mean', 'F-Recall',
         'F-Decay')
# Lossless and fast: results are pickled across ranks, and a 480p uint8 map
# shrinks from ~400 KB to a few KB.
_PNG_ARGS = [cv2.IMWRITE_PNG_COMPRESSION, 1]
_VOID = 255


@METRICS.register_module()
class DAVISMetric(BaseMetric):
    """J&F of DAVIS 2017, with the definitions of davis2017-evaluation.

    Frames are grouped by ``sequence`` and ordered by ``frame_index`` (data
    sample metainfo set by :class:`~mmfactdiff.datasets.DAVIS2017Dataset`
    and ``PackSegInputs(meta_keys=...)``; without them, by the parent folder
    and the file name of ``img_path``). ``pred_sem_seg`` holds region ids,
    ``gt_sem_seg`` DAVIS object ids (0 background, 1..N objects, 255 void).
    The objects of a sequence are ids 1..N with N the largest id of its
    first frame (``davis2017/davis.py`` L93).

    ``task='unsupervised'`` (the official unsupervised task,
    ``davis2017/evaluation.py`` L44-L64, L87-L88): every region id is a
    proposal whose id persists over the video (region k is proposal k in
    every frame). Proposals are region ids ``0..R`` minus
    ``background_regions``, R the largest non-excluded region id seen in the
    sequence (ids in between that never occur are empty proposals, as an id
    gap is in the official PNG reader, ``results.py`` L27-L30). At most
    ``max_proposals`` are allowed. If there are fewer proposals than objects,
    empty proposals are added. J and F are computed for every (proposal,
    object, frame) on all frames, with void pixels excluded; each object
    is matched to one proposal by a Hungarian assignment on
    ``(mean J + mean F) / 2``; an object matched to an empty proposal scores
    J = F = 0 on the frames where it is visible.

    ``task='semi-supervised'`` (``evaluation.py`` L28-L41, L84-L90): the
    predicted values are taken as object ids directly (0 background, i =
    object i) and scored against object i; no matching. A value above N is
    an error. The first and last frame of every sequence are not scored
    (the first is the given reference mask), and void pixels count as
    background (the official evaluator passes no void mask for this task).
    This only makes sense for a model whose output ids were tied to the
    first-frame objects; it is not a label-free protocol.

    Per object: Mean, Recall (> 0.5) and Decay (4 bins) over frames
    (``utils.py`` L135-L161). Global numbers are plain means over all
    objects of all sequences (``evaluation_method.py`` L43-L45), and
    J&F-Mean = (J-Mean + F-Mean) / 2. Results are in percent, rounded to two
    decimals (as papers, mmseg's IoUMetric and the other mmfactdiff metrics
    report; the official script prints fractions with three decimals), Decay
    in percentage points.

    Args:
        task (str): ``'unsupervised'`` or ``'semi-supervised'``. Defaults to
            ``'unsupervised'``.
        max_proposals (int): Most proposals allowed per sequence in the
            unsupervised task (official: 20). Defaults to 20.
        background_regions (Sequence[int], optional): Region ids that are
            never proposals (unsupervised task). Defaults to None: every
            region is a proposal. Which region is "background" is not known
            without labels, and extra proposals cost nothing (unmatched
            proposals are ignored), so keeping all regions is label-free and
            is what the protocol intends; set this only to a choice made
            a priori (e.g. a model with a dedicated background region, or
            to get a model with more than 20 regions under the limit).
        bound_th (float): Boundary tolerance of F, a fraction of the image
            diagonal (or pixels if >= 1). Defaults to 0.008.
        collect_device (str): Device used to collect results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to None.
    """

    def __init__(self,
                 task: str = 'unsupervised',
                 max_proposals: int = 20,
                 background_regions: Optional[Sequence[int]] = None,
                 bound_th: float = DEFAULT_BOUND_TH,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if task not in _TASKS:
            raise ValueError(f'task must be one of {_TASKS}, got {task!r}.')
        if max_proposals < 1:
            raise ValueError('max_proposals must be positive.')
        if background_regions is not None and task != 'unsupervised':
            raise ValueError('background_regions only applies to the '
                             'unsupervised task.')
        self.task = task
        self.max_proposals = int(max_proposals)
        self.background_regions = tuple(
            sorted(int(r) for r in (background_regions or ())))
        self.bound_th = float(bound_th)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Store sequence, frame and compressed uint8 maps of each sample.

        Args:
            data_batch (Any): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Model outputs, each with
                ``pred_sem_seg`` and ``gt_sem_seg``.
        """
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            pred = _to_uint8_map(sample['pred_sem_seg'], 'pred_sem_seg')
            if 'gt_sem_seg' not in sample:
                raise KeyError('DAVISMetric needs gt_sem_seg: add '
                               'LoadAnnotations to the test pipeline.')
            gt = _to_uint8_map(sample['gt_sem_seg'], 'gt_sem_seg')
            if pred.shape != gt.shape:
                raise ValueError(f'prediction {pred.shape} and annotation '
                                 f'{gt.shape} differ in size; predictions '
                                 'must be at the original resolution.')
            sequence, order = _frame_key(sample)
            self.results.append(
                dict(
                    sequence=sequence,
                    order=order,
                    num_frames=sample.get('num_frames'),
                    pred=_encode(pred),
                    gt=_encode(gt)))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Score every sequence and average over objects.

        Args:
            results (list[dict]): Outputs of :meth:`process` of all ranks.

        Returns:
            dict[str, float]: ``J&F-Mean``, ``J-Mean``, ``J-Recall``,
            ``J-Decay``, ``F-Mean``, ``F-Recall``, ``F-Decay`` in percent,
            rounded to two decimals.
        """
        logger = MMLogger.get_current_instance()
        rows = []  # (sequence, object id, region or None, stats of J, of F)
        for sequence, frames in self._group(results, logger).items():
            preds = np.stack([_decode(f['pred']) for f in frames])
            gts = np.stack([_decode(f['gt']) for f in frames])
            num_objects = int(np.where(gts[0] == _VOID, 0, gts[0]).max())
            if num_objects == 0:
                print_log(
                    f'DAVISMetric: sequence {sequence} has no object in '
                    'its first frame; skipped.',
                    logger,
                    level=logging.WARNING)
                continue
            if self.task == 'unsupervised':
                regions, j, f = self._score_unsupervised(
                    sequence, preds, gts, num_objects)
            else:
                if len(frames) < 3:
                    print_log(
                        f'DAVISMetric: sequence {sequence} has fewer than 3 '
                        'frames; nothing left after dropping the first and '
                        'last frame; skipped.',
                        logger,
                        level=logging.WARNING)
                    continue
                regions, j, f = self._score_semi_supervised(
                    sequence, preds, gts, num_objects)
            for obj in range(num_objects):
                rows.append((sequence, obj + 1, regions[obj],
                             db_statistics(j[obj]), db_statistics(f[obj])))
        return self._summarise(rows, logger)

    def _score_unsupervised(
            self, sequence: str, preds: np.ndarray, gts: np.ndarray,
            num_objects: int) -> Tuple[list, np.ndarray, np.ndarray]:
        """J, F of each object with its matched proposal, ``(O, T)``."""
        excluded = set(self.background_regions)
        seen = [int(r) for r in np.unique(preds) if int(r) not in excluded]
        proposals = [] if not seen else \
            [r for r in range(max(seen) + 1) if r not in excluded]
        if len(proposals) > self.max_proposals:
            raise ValueError(
                f'DAVISMetric: sequence {sequence} has {len(proposals)} '
                f'proposals (region ids {proposals[0]}..{proposals[-1]} '
                f'minus background_regions); the protocol allows at most '
                f'{self.max_proposals}. Exclude regions a priori with '
                '`background_regions`.')
        # Pad with empty proposals (id -1 never occurs in a uint8 map) so
        # that every object is matched, as evaluation.py L48-L50.
        ids = np.array(
            proposals + [-1] * max(0, num_objects - len(proposals)),
            dtype=np.int16)
        obj_ids = np.arange(1, num_objects + 1, dtype=np.int16)
        num_frames = preds.shape[0]
        j = np.zeros((len(ids), num_objects, num_frames))
        f = np.zeros_like(j)
        for t in range(num_frames):
            void = gts[t] == _VOID
            j[:, :, t], f[:, :, t] = pairwise_j_and_f(
                preds[t][None] == ids[:, None, None],
                gts[t][None] == obj_ids[:, None, None], void, self.bound_th)
        assignment, j_matched, f_matched = unsupervised_assignment(j, f)
        regions = [
            int(ids[a]) if a >= 0 and ids[a] >= 0 else None for a in assignment
        ]
        return regions, j_matched, f_matched

    def _score_semi_supervised(
            self, sequence: str, preds: np.ndarray, gts: np.ndarray,
            num_objects: int) -> Tuple[list, np.ndarray, np.ndarray]:
        """J, F of object i against prediction id i, ``(O, T - 2)``."""
        # evaluation.py L84-L85: first and last frames are not scored.
        preds, gts = preds[1:-1], gts[1:-1]
        if int(preds.max()) > num_objects:
            raise ValueError(
                f'DAVISMetric: sequence {sequence} has prediction id '
                f'{int(preds.max())} but only {num_objects} objects; in the '
                'semi-supervised task prediction ids are object ids.')
        # davis.py L89-L90 + evaluation.py L90: no void mask in this task,
        # void pixels are background (255 matches no object id below).
        obj_ids = np.arange(1, num_objects + 1, dtype=np.int16)
        j = np.zeros((num_objects, preds.shape[0]))
        f = np.zeros_like(j)
        for t in range(preds.shape[0]):
            jt, ft = pairwise_j_and_f(preds[t][None] == obj_ids[:, None, None],
                                      gts[t][None] == obj_ids[:, None, None],
                                      None, self.bound_th)
            j[:, t], f[:, t] = np.diag(jt), np.diag(ft)
        return list(range(1, num_objects + 1)), j, f

    def _group(self, results: List[dict],
               logger: MMLogger) -> Dict[str, List[dict]]:
        """Group results by sequence (first-seen order), frames in order."""
        grouped: Dict[str, Dict[Any, dict]] = OrderedDict()
        for res in results:
            frames = grouped.setdefault(res['sequence'], {})
            if res['order'] in frames:
                print_log(
                    f'DAVISMetric: frame {res["order"]} of '
                    f'{res["sequence"]} seen twice; keeping the first.',
                    logger,
                    level=logging.WARNING)
                continue
            frames[res['order']] = res
        out = OrderedDict()
        for sequence, frames in grouped.items():
            ordered = [frames[k] for k in sorted(frames)]
            expected = ordered[0]['num_frames']
            if expected is not None and len(ordered) != expected:
                print_log(
                    f'DAVISMetric: {sequence} has {len(ordered)} of '
                    f'{expected} frames; scoring the frames present.',
                    logger,
                    level=logging.WARNING)
            out[sequence] = ordered
        return out

    def _summarise(self, rows: list, logger: MMLogger) -> Dict[str, float]:
        """Global means, per-object table and protocol line."""
        if self.task == 'unsupervised':
            proto = (f'DAVIS 2017 unsupervised protocol (davis2017-evaluation '
                     f'definitions): region k = proposal k in every frame, '
                     f'at most {self.max_proposals} proposals per sequence, '
                     f'background_regions={list(self.background_regions)}, '
                     'Hungarian assignment on (J+F)/2, all frames scored')
        else:
            proto = ('DAVIS 2017 semi-supervised protocol (davis2017-'
                     'evaluation definitions): prediction ids are object ids, '
                     'first and last frames not scored')
        num_seqs = len({r[0] for r in rows})
        print_log(
            f'protocol: {proto}; bound_th={self.bound_th}; '
            f'{num_seqs} sequences, {len(rows)} objects; values in percent.',
            logger)
        if not rows:
            print_log(
                'DAVISMetric: no object was scored.',
                logger,
                level=logging.WARNING)
            return OrderedDict((k, float('nan')) for k in _KEYS)
        j_stats = np.array([r[3] for r in rows]) * 100
        f_stats = np.array([r[4] for r in rows]) * 100
        j_mean, j_recall, j_decay = j_stats.mean(axis=0)
        f_mean, f_recall, f_decay = f_stats.mean(axis=0)

        table = PrettyTable()
        table.field_names = [
            'Sequence', 'Object',
            'Region' if self.task == 'unsupervised' else 'Pred id', 'J-Mean',
            'F-Mean', 'J&F-Mean'
        ]
        for (seq, obj, region, *_), js, fs in zip(rows, j_stats, f_stats):
            table.add_row([
                seq, obj, '-' if region is None else region, f'{js[0]:.2f}',
                f'{fs[0]:.2f}', f'{(js[0] + fs[0]) / 2:.2f}'
            ])
        print_log('per-object results:\n' + table.get_string(), logger)

        values = ((j_mean + f_mean) / 2, j_mean, j_recall, j_decay, f_mean,
                  f_recall, f_decay)
        summary = PrettyTable(field_names=list(_KEYS))
        summary.add_row([f'{v:.2f}' for v in values])
        print_log('DAVIS 2017 global results:\n' + summary.get_string(),
                  logger)
        return OrderedDict(
            (k, round(float(v), 2)) for k, v in zip(_KEYS, values))


def _to_uint8_map(field: Any, name: str) -> np.ndarray:
    """(H, W) uint8 map from a PixelData dict/element or an array."""
    data = label_map(field, name)
    if data.size and (data.min() < 0 or data.max() > 255):
        raise ValueError(f'{name} values must lie in 0..255.')
    return data.astype(np.uint8)


def _frame_key(sample: dict) -> Tuple[str, Any]:
    """(sequence, frame order key) from metainfo, else from ``img_path``."""
    sequence, index = sample.get('sequence'), sample.get('frame_index')
    if sequence is not None and index is not None:
        return str(sequence), int(index)
    img_path = sample.get('img_path')
    if img_path is None:
        raise KeyError('DAVISMetric needs `sequence` and `frame_index` in the '
                       'data sample metainfo (PackSegInputs meta_keys) or an '
                       '`img_path` of the form .../<sequence>/<frame>.jpg.')
    # Official layout: the frame name orders the frames (davis.py L48).
    return (osp.basename(osp.dirname(img_path)),
            osp.splitext(osp.basename(img_path))[0])


def _encode(arr: np.ndarray) -> np.ndarray:
    ok, buf = cv2.imencode('.png', arr, _PNG_ARGS)
    if not ok:
        raise RuntimeError('PNG encoding of a map failed.')
    return buf


def _decode(buf: np.ndarray) -> np.ndarray:
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
