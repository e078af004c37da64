# Copyright (c) mmfactdiff contributors. All rights reserved.
from .class_folder_dataset import ClassFolderDataset
from .class_map import IMAGENET_TO_VOC, load_class_map
from .davis2017_dataset import DAVIS2017Dataset
from .simple_shapes_dataset import SimpleShapesDataset
from .synthetic_shapes_dataset import SyntheticShapesDataset
from .unlabeled_image_dataset import UnlabeledImageDataset
from .voc_class_conditioned_dataset import VOCClassConditionedDataset
from .weizmann_horse_dataset import WeizmannHorseDataset

__all__ = [
    'ClassFolderDataset', 'DAVIS2017Dataset', 'IMAGENET_TO_VOC',
    'SimpleShapesDataset', 'SyntheticShapesDataset', 'UnlabeledImageDataset',
    'VOCClassConditionedDataset', 'WeizmannHorseDataset', 'load_class_map'
]
