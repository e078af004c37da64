# Copyright (c) mmfactdiff contributors. All rights reserved.
"""PASCAL VOC 2012 for class-conditional (zero-shot) segmentation."""
import copy
from typing import List, Union

import numpy as np
from mmengine.logging import MMLogger, print_log
from mmseg.datasets import PascalVOCDataset
from PIL import Image

from mmfactdiff.registry import DATASETS
from .class_map import IMAGENET_TO_VOC, load_class_map


@DATASETS.register_module()
class VOCClassConditionedDataset(PascalVOCDataset):
    """PASCAL VOC 2012, one sample per (image, object class in the image).

    The zero-shot VOC protocol (paper, Table 7) segments VOC images with a
    class-conditional ImageNet model: each VOC class is mapped to ImageNet
    classes (``class_map``), the model is conditioned on the mapped class,
    and its object region is scored against the pixels of that VOC class.
    This dataset reads mmseg's standard VOC layout (same arguments as
    :class:`mmseg.datasets.PascalVOCDataset`), opens every ground-truth map
    once at init to find the object classes it contains (ids 1..20; 0 is
    background and ``ignore_index`` is skipped), and yields one sample per
    (image, class) pair carrying two metainfo keys:

    - ``cond_key`` (default ``'class_label'``): the ImageNet class index to
      condition on (the mapping's ``condition_on``), read by
      ``FactorizedDiffusionSegmentor(cond_label_key=...)``;
    - ``target_key`` (default ``'target_class'``): the VOC class id, read
      by ``PerClassForegroundMetric(target_key=...)``.

    Add both to ``PackSegInputs``' ``meta_keys``. Images without any object
    class are dropped (their number is logged). The ground truth labels are
    used to choose which classes to condition on: this is the protocol's
    premise (the class is given, the model finds its region).

    Args:
        ann_file (str): Split file, e.g.
            ``'ImageSets/Segmentation/val.txt'``.
        class_map (str | dict): ImageNet -> VOC mapping file (see
            :func:`mmfactdiff.datasets.load_class_map`) or its content.
            Defaults to the shipped ``class_maps/imagenet_to_voc.json``.
        cond_key (str): Metainfo key of the ImageNet class index.
            Defaults to ``'class_label'``.
        target_key (str): Metainfo key of the VOC class id.
            Defaults to ``'target_class'``.
        **kwargs: Other :class:`mmseg.datasets.PascalVOCDataset` /
            ``BaseSegDataset`` arguments (``data_root``, ``data_prefix``,
            ``pipeline``, ``test_mode``, ...).
    """

    def __init__(self,
                 ann_file: str,
                 class_map: Union[str, dict] = IMAGENET_TO_VOC,
                 cond_key: str = 'class_label',
                 target_key: str = 'target_class',
                 **kwargs) -> None:
        self.class_map = class_map
        self.cond_key = cond_key
        self.target_key = target_key
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Expand every image into one sample per object class in its GT."""
        classes = list(self._metainfo['classes'])
        mapping = load_class_map(self.class_map, classes[1:])
        images = super().load_data_list()
        data_list, without_objects = [], 0
        for info in images:
            path = info.get('seg_map_path')
            if not path:
                raise ValueError(
                    f'{type(self).__name__} needs ground truth: image '
                    f'{info["img_path"]!r} has no seg_map_path (set '
                    "data_prefix['seg_map_path'])")
            try:
                gt = np.array(Image.open(path))
            except (OSError, ValueError) as e:
                raise OSError(f'cannot read ground truth {path!r}: {e}') \
                    from e
            ids = [
                int(c) for c in np.unique(gt)
                if c != 0 and c != self.ignore_index
            ]
            bad = [c for c in ids if c >= len(classes)]
            if bad:
                raise ValueError(f'ground truth {path!r} has class ids {bad} '
                                 f'outside 0..{len(classes) - 1} and not '
                                 f'ignore_index ({self.ignore_index})')
            if not ids:
                without_objects += 1
            for cls in ids:
                sample = copy.deepcopy(info)
                sample[self.target_key] = cls
                sample[self.cond_key] = mapping[classes[cls]]['condition_on']
                data_list.append(sample)
        if without_objects:
            print_log(
                f'{type(self).__name__}: {without_objects} image(s) without '
                'any object class were dropped',
                logger=MMLogger.get_current_instance())
        return data_list
