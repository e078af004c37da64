# Copyright (c) mmfactdiff contributors. All rights reserved.
__all__ = []
