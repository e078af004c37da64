# Copyright (c) mmfactdiff contributors. All rights reserved.
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement

from mmfactdiff.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackMultiCropInputs(BaseTransform):
    """Pack :class:`LeopartMultiCrop`'s output for the model.

    ``inputs`` is the list of crops (each (3, s, s), normalised); the data
    sample carries the crop-pair boxes as ``gc_boxes`` and ``all_boxes``
    and the image's ``img_path`` (when it has one) as metainfo.
    """

    def transform(self, results: dict) -> dict:
        for key in ('crops', 'gc_boxes', 'all_boxes'):
            if key not in results:
                raise KeyError(f'PackMultiCropInputs: no {key!r} in the '
                               'results: put LeopartMultiCrop before it in '
                               'the pipeline')
        sample = BaseDataElement(
            metainfo=dict(img_path=results.get('img_path')))
        sample.gc_boxes = results['gc_boxes']
        sample.all_boxes = results['all_boxes']
        return dict(inputs=list(results['crops']), data_samples=sample)
