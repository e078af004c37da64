# Copyright (c) mmfactdiff contributors. All rights reserved.
from .davis_metric import DAVISMetric
from .foreground_iou_metric import ForegroundIoUMetric
from .hungarian_iou_metric import HungarianIoUMetric
from .per_class_foreground_metric import PerClassForegroundMetric
from .region_gain_metric import RegionGainMetric

__all__ = [
    'DAVISMetric', 'ForegroundIoUMetric', 'HungarianIoUMetric',
    'PerClassForegroundMetric', 'RegionGainMetric'
]
