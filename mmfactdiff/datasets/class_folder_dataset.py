# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Images sorted into one folder per class (ImageNet layout)."""
import os.path as osp
from typing import List, Optional, Sequence

from mmfactdiff.registry import DATASETS
from .unlabeled_image_dataset import UnlabeledImageDataset


@DATASETS.register_module()
class ClassFolderDataset(UnlabeledImageDataset):
    """Images in ``<img_path>/<class folder>/...``, with the class index.

    For class-conditional pretraining (ImageNet-64): every image gets the
    index of its top-level folder in metainfo key ``label_key`` (read by
    ``FactorizedDiffusionSegmentor(cond_label_key=...)``; add it to
    ``PackSegInputs``' ``meta_keys``). Scanning, ``ann_file`` and
    ``check_files`` work as in :class:`UnlabeledImageDataset`.

    The classes are the top-level folder names sorted, so an ImageNet
    ``train/`` folder of WordNet ids gives the standard ImageNet-1k indices,
    and the folders ``0000`` ... ``0999`` written by
    ``tools/dataset_converters/imagenet64.py`` give the index in their name.
    Give ``class_names`` to fix the order (or use only a subset: images of
    other folders are then an error).

    Args:
        class_names (Sequence[str], optional): Folder names in class index
            order. Defaults to None (sorted folder names).
        label_key (str): Metainfo key of the class index.
            Defaults to ``'class_label'``.
        **kwargs: :class:`UnlabeledImageDataset` arguments
            (``data_root``, ``data_prefix``, ``img_suffix``, ``ann_file``,
            ``check_files``, ``pipeline``, ...).
    """

    def __init__(self,
                 class_names: Optional[Sequence[str]] = None,
                 label_key: str = 'class_label',
                 **kwargs) -> None:
        self.class_names = (
            list(class_names) if class_names is not None else None)
        self.label_key = label_key
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        """Scan the folder and label every image by its class folder."""
        data_list = super().load_data_list()
        img_dir = self.data_prefix.get('img_path', '')
        folders = []
        for info in data_list:
            rel = osp.relpath(info['img_path'], img_dir)
            parts = rel.split(osp.sep)
            if len(parts) < 2:
                raise ValueError(
                    f'image {info["img_path"]!r} is not inside a class '
                    f'folder of {img_dir!r} (expected <class>/<image>)')
            folders.append(parts[0])
        if self.class_names is None:
            self.class_names = sorted(set(folders))
        index = {name: i for i, name in enumerate(self.class_names)}
        for info, folder in zip(data_list, folders):
            if folder not in index:
                raise ValueError(
                    f'image {info["img_path"]!r} is in folder {folder!r}, '
                    'which is not in class_names')
            info[self.label_key] = index[folder]
        return data_list
