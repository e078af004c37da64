# Copyright (c) mmfactdiff contributors. All rights reserved.
from .denoising_mse_loss import DenoisingMSELoss

__all__ = ['DenoisingMSELoss']
