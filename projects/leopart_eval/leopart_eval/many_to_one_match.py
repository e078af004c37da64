# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Many-to-one matching of clusters to classes by precision (USES LABELS)."""
from typing import Dict

import numpy as np

__all__ = ['many_to_one_match']


def many_to_one_match(confusion: np.ndarray) -> Dict[int, int]:
    """Give every cluster the GT class it is most precise for.

    Leopart's over-clustering protocol (``PredsmIoU._original_match`` with
    ``precision_based=True`` in ``experiments/utils.py`` of the official
    code): cluster ``k`` goes to the class ``c`` maximising the precision
    ``confusion[k, c] / confusion[k].sum()``, i.e. the class most of its
    (non-ignored) pixels belong to. Several clusters may go to one class
    and a class may get none. Ties, including a cluster without any pixel,
    go to the lowest class id (the official loop keeps the first of equal
    scores).

    The assignment reads the GT labels of the evaluation split: scores
    built on it are label-using and must not be reported as label-free
    (the Hungarian matching of :func:`mmfactdiff.evaluation.functional.
    hungarian_match` only reads them to name one cluster per class).
    With more clusters than classes the score approaches that of a
    labelled nearest-centroid classifier as K grows.

    Args:
        confusion (np.ndarray): ``(K, C)`` cluster confusion matrix
            (:func:`mmfactdiff.evaluation.functional.region_confusion`).

    Returns:
        dict[int, int]: Class id for every cluster id ``0..K-1``, the
        format :func:`mmfactdiff.evaluation.functional.matched_scores`
        takes.
    """
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[1] < 1:
        raise ValueError('confusion must have shape (K, C) with C >= 1, got '
                         f'{confusion.shape}')
    # the precision's denominator is the cluster's size, the same for
    # every class: the most precise class is the row's argmax
    return {int(k): int(c) for k, c in enumerate(np.argmax(confusion, axis=1))}
