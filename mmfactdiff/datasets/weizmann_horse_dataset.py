# Copyright (c) mmfactdiff contributors. All rights reserved.
"""The Weizmann Horse figure/ground database."""
import os.path as osp
from typing import Optional

from mmfactdiff.registry import DATASETS
from .unlabeled_image_dataset import UnlabeledImageDataset


@DATASETS.register_module()
class WeizmannHorseDataset(UnlabeledImageDataset):
    """Weizmann Horse photos (Borenstein and Ullman, ECCV 2002), one horse
    per image, with optional figure/ground masks.

    Layout under ``data_root``::

        all.txt                 # ids, one per line (horse001, ...)
        images/horse001.jpg     # RGB photos, sizes vary
        masks/horse001.png      # indexed PNG of the same size: 0 bg, 1 horse

    With ``with_masks=True`` (the default) every listed image must have its
    mask, and a missing one is an error naming the image; with
    ``with_masks=False``, or when the ``masks`` folder does not exist, the
    samples carry no mask and the dataset serves as an unlabeled folder
    for label-free training (use a pipeline without ``LoadAnnotations``).

    Args:
        data_root (str): The folder above.
        ann_file (str): The id list, relative to ``data_root``; '' uses
            every image in ``images/`` (sorted). Defaults to 'all.txt'.
        with_masks (bool): Pair images with their masks. Defaults to True.
        img_dir (str): Image folder. Defaults to 'images'.
        mask_dir (str): Mask folder. Defaults to 'masks'.
        metainfo (dict, optional): Overrides of the metainfo
            (``classes=('background', 'horse')``). Defaults to None.
        **kwargs: :class:`UnlabeledImageDataset` /
            :class:`mmseg.datasets.BaseSegDataset` arguments (``pipeline``,
            ``test_mode``, ``indices``, ``check_files``, ...).
    """

    METAINFO = dict(
        classes=('background', 'horse'), palette=[[0, 0, 0], [128, 64, 0]])

    def __init__(self,
                 data_root: str,
                 ann_file: str = 'all.txt',
                 with_masks: bool = True,
                 img_dir: str = 'images',
                 mask_dir: str = 'masks',
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'WeizmannHorseDataset: data_root {data_root!r} is not a '
                'folder (it holds all.txt, images/ and masks/; see '
                'docs/datasets.md)')
        has_masks = osp.isdir(osp.join(data_root, mask_dir))
        prefix = dict(img_path=img_dir)
        if with_masks and has_masks:
            prefix['seg_map_path'] = mask_dir
        super().__init__(
            data_root=data_root,
            data_prefix=prefix,
            img_suffix='.jpg',
            seg_map_suffix='.png',
            ann_file=ann_file,
            metainfo=metainfo,
            **kwargs)
