# Copyright (c) mmfactdiff contributors. All rights reserved.
from .checkpoint_utils import init_factdiff_model, load_weights

__all__ = ['init_factdiff_model', 'load_weights']
