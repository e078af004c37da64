# Copyright (c) mmfactdiff contributors. All rights reserved.
from .region_grid import (colorize, make_grid, masks_to_ids, region_meta,
                          region_palette, to_uint8_images)

__all__ = [
    'colorize', 'make_grid', 'masks_to_ids', 'region_meta', 'region_palette',
    'to_uint8_images'
]
