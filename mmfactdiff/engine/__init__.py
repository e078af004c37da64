# Copyright (c) mmfactdiff contributors. All rights reserved.
from .hooks import *  # noqa: F401,F403
from .hooks import __all__ as _hooks_all
from .optimizers import AutocastOptimWrapper
from .strategies import *  # noqa: F401,F403
from .strategies import __all__ as _strategies_all

__all__ = list(_hooks_all) + list(_strategies_all) + ['AutocastOptimWrapper']
