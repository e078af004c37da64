# Copyright (c) mmfactdiff contributors. All rights reserved.
from .davis2017_dataset import DAVIS2017Dataset
from .synthetic_shapes_dataset import SyntheticShapesDataset
from .unlabeled_image_dataset import UnlabeledImageDataset

__all__ = [
    'DAVIS2017Dataset', 'SyntheticShapesDataset', 'UnlabeledImageDataset'
]
