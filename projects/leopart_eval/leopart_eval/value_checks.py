# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Type checks of option values shared by the project's modules (numpy
integers count as ints; bools count as neither ints nor reals)."""
import math
from numbers import Real

import numpy as np

__all__ = ['is_int', 'is_real']


def is_int(value) -> bool:
    """Whether ``value`` is an int or numpy integer (not a bool)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_real(value) -> bool:
    """Whether ``value`` is a finite real number (not a bool)."""
    return isinstance(value, Real) and not isinstance(value, bool) and \
        math.isfinite(value)
