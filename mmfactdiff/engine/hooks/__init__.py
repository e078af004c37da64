# Copyright (c) mmfactdiff contributors. All rights reserved.
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .mask_usage_hook import MaskUsageHook
from .region_visualization_hook import RegionVisualizationHook
from .rng_state_hook import RNGStateHook
from .sample_visualization_hook import SampleVisualizationHook
from .tau_schedule_hook import TauScheduleHook
from .test_resource_hook import TestResourceHook

__all__ = [
    'AtomicCheckpointHook', 'RNGStateHook', 'MaskUsageHook',
    'RegionVisualizationHook', 'SampleVisualizationHook', 'TauScheduleHook',
    'TestResourceHook'
]
