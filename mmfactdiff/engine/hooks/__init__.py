# Copyright (c) mmfactdiff contributors. All rights reserved.
from .mask_usage_hook import MaskUsageHook
from .sample_visualization_hook import SampleVisualizationHook

__all__ = ['MaskUsageHook', 'SampleVisualizationHook']
