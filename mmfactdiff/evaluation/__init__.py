# Copyright (c) mmfactdiff contributors. All rights reserved.
from . import functional
from .metrics import (DAVISMetric, ForegroundIoUMetric, HungarianIoUMetric,
                      PerClassForegroundMetric)

__all__ = [
    'functional', 'DAVISMetric', 'ForegroundIoUMetric', 'HungarianIoUMetric',
    'PerClassForegroundMetric'
]
