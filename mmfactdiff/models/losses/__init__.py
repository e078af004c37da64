# Copyright (c) mmfactdiff contributors. All rights reserved.
from .denoising_mse_loss import DenoisingMSELoss
from .region_usage_floor_loss import RegionUsageFloorLoss

__all__ = ['DenoisingMSELoss', 'RegionUsageFloorLoss']
