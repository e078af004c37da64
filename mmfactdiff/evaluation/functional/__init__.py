# Copyright (c) mmfactdiff contributors. All rights reserved.
from .davis_measures import (DEFAULT_BOUND_TH, boundary_tolerance,
                             db_eval_boundary, db_eval_iou, db_statistics,
                             f_measure, pairwise_j_and_f, seg2bmap,
                             unsupervised_assignment)
from .region_matching import (fg_assignment, foreground_scores,
                              foreground_scores_from_confusion,
                              hungarian_match, mapped_confusion,
                              matched_scores, region_confusion)

__all__ = [
    'foreground_scores', 'foreground_scores_from_confusion',
    'region_confusion', 'hungarian_match', 'mapped_confusion',
    'matched_scores', 'fg_assignment', 'DEFAULT_BOUND_TH',
    'boundary_tolerance', 'db_eval_boundary', 'db_eval_iou', 'db_statistics',
    'f_measure', 'pairwise_j_and_f', 'seg2bmap', 'unsupervised_assignment'
]
