# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Registries used by mmfactdiff.

Everything is registered into mmsegmentation's registries so that configs
with ``default_scope='mmseg'`` and the standard ``tools/train.py`` /
``tools/test.py`` resolve our types without scope warnings.

``DIFFUSION_SCHEDULERS`` is an alias of mmseg's ``TASK_UTILS`` (the same
pattern as mmseg's ``PIXEL_SAMPLERS = TASK_UTILS``): a separate root registry
would log a scope fall-back warning on every build.
"""
from mmseg.registry import (DATASETS, HOOKS, METRICS, MODELS, OPTIM_WRAPPERS,
                            TASK_UTILS, TRANSFORMS, VISUALIZERS)

DIFFUSION_SCHEDULERS = TASK_UTILS

__all__ = [
    'DATASETS', 'HOOKS', 'METRICS', 'MODELS', 'OPTIM_WRAPPERS', 'TASK_UTILS',
    'TRANSFORMS', 'VISUALIZERS', 'DIFFUSION_SCHEDULERS'
]
