# Copyright (c) mmfactdiff contributors. All rights reserved.
"""DAVIS 2017 video object segmentation dataset (frames grouped by video)."""
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

from mmengine import fileio
from mmseg.datasets import BaseSegDataset

from mmfactdiff.registry import DATASETS


@DATASETS.register_module()
class DAVIS2017Dataset(BaseSegDataset):
    """DAVIS 2017 (480p) in its official download layout.

    .. code-block:: none

        data_root/
        ├── ImageSets/2017/{train,val}.txt     # one sequence name a line
        ├── JPEGImages/480p/<seq>/00000.jpg ...
        └── Annotations/480p/<seq>/00000.png ...

    Every frame of every listed sequence is one sample, ordered by sequence
    (in list order) and then by frame name, the order of the official
    toolkit (``davis2017/davis.py``, sorted glob per sequence). Each data
    info carries, besides ``img_path`` and ``seg_map_path``:

    - ``sequence`` (str): the video name,
    - ``frame_index`` (int): 0-based position of the frame in its video,
    - ``frame_id`` (str): the frame file stem, e.g. ``'00000'``,
    - ``num_frames`` (int): the number of frames of the video.

    Annotations are indexed PNGs whose values are object ids: 0 background,
    1..N the objects of the video, 255 void. ``LoadAnnotations`` keeps these
    ids (no ``reduce_zero_label``, no ``label_map``); the classes of
    ``METAINFO`` exist for mmseg compatibility only, and
    :class:`~mmfactdiff.evaluation.metrics.DAVISMetric` reads object ids.

    The metric needs the sequence and frame of each prediction, so the test
    pipeline must pack them into the data sample metainfo:

    .. code-block:: python

        test_pipeline = [
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(512, 512), keep_ratio=False),
            dict(type='LoadAnnotations'),  # after Resize: GT at full size
            dict(type='PackSegInputs',
                 meta_keys=('img_path', 'seg_map_path', 'ori_shape',
                            'img_shape', 'pad_shape', 'scale_factor',
                            'flip', 'flip_direction', 'reduce_zero_label',
                            'sequence', 'frame_index', 'num_frames')),
        ]

    (Without those keys the metric falls back to the parent folder and
    file name of ``img_path``.)

    The official unsupervised benchmark scores against the separate
    ``Annotations_unsupervised/480p`` package; use it with
    ``data_prefix=dict(img_path='JPEGImages/480p',
    seg_map_path='Annotations_unsupervised/480p')``.

    Args:
        split (str): Name of the sequence list ``ImageSets/2017/<split>.txt``.
            Ignored when ``ann_file`` is given. Defaults to ``'val'``.
        ann_file (str): Sequence list file (one name a line), relative to
            ``data_root`` unless absolute. Defaults to ``''`` (use ``split``).
        data_root (str, optional): Root of the DAVIS tree. Defaults to None.
        data_prefix (dict): Folders of frames (``img_path``) and masks
            (``seg_map_path``) relative to ``data_root``. Defaults to
            ``dict(img_path='JPEGImages/480p',
            seg_map_path='Annotations/480p')``.
        img_suffix (str): Frame suffix. Defaults to ``'.jpg'``.
        seg_map_suffix (str): Mask suffix. Defaults to ``'.png'``.
        sequences (Sequence[str], optional): Keep only these sequences of
            the list (in list order); an unknown name is an error. Defaults
            to None (all).
        **kwargs: Other arguments of
            :class:`mmseg.datasets.BaseSegDataset` (``pipeline``,
            ``test_mode``, ``indices``, ``serialize_data``, ``lazy_init``,
            ``backend_args``, ...). ``reduce_zero_label`` must stay False.
    """
    METAINFO = dict(
        classes=('background', 'object'), palette=[[0, 0, 0], [128, 0, 0]])

    def __init__(self,
                 split: str = 'val',
                 ann_file: str = '',
                 data_root: Optional[str] = None,
                 data_prefix: dict = dict(
                     img_path='JPEGImages/480p',
                     seg_map_path='Annotations/480p'),
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.png',
                 sequences: Optional[Sequence[str]] = None,
                 **kwargs) -> None:
        if kwargs.get('reduce_zero_label', False):
            raise ValueError('DAVIS2017Dataset needs reduce_zero_label=False: '
                             'mask values are object ids, 0 is background.')
        self.split = split
        self.sequence_filter = None if sequences is None else list(sequences)
        super().__init__(
            ann_file=ann_file or osp.join('ImageSets', '2017', f'{split}.txt'),
            data_root=data_root,
            data_prefix=data_prefix,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            **kwargs)
        if self.label_map is not None:
            # A label map would rewrite object ids; the metric needs them raw.
            raise ValueError('DAVIS2017Dataset does not support custom '
                             '`classes`: annotation values are object ids.')

    def load_data_list(self) -> List[dict]:
        """Read the sequence list and enumerate the frames of each sequence.

        Returns:
            list[dict]: One data info per frame, grouped by sequence.
        """
        img_dir = self.data_prefix.get('img_path', '')
        ann_dir = self.data_prefix.get('seg_map_path', '')
        self._check_exists(self.ann_file, 'sequence list (ImageSets)')
        self._check_exists(img_dir, 'frame folder (JPEGImages)')
        self._check_exists(ann_dir, 'annotation folder (Annotations)')
        names = [
            line.strip() for line in fileio.list_from_file(
                self.ann_file, backend_args=self.backend_args) if line.strip()
        ]
        if self.sequence_filter is not None:
            unknown = sorted(set(self.sequence_filter) - set(names))
            if unknown:
                raise ValueError(f'sequences {unknown} are not listed in '
                                 f'{self.ann_file}.')
            keep = set(self.sequence_filter)
            names = [n for n in names if n in keep]

        data_list = []
        for name in names:
            seq_img_dir = osp.join(img_dir, name)
            self._check_exists(seq_img_dir, f'frames of sequence {name!r}')
            stems = sorted(f[:-len(self.img_suffix)]
                           for f in fileio.list_dir_or_file(
                               seq_img_dir,
                               list_dir=False,
                               suffix=self.img_suffix,
                               backend_args=self.backend_args))
            if not stems:
                raise FileNotFoundError(
                    f'DAVIS2017Dataset: no {self.img_suffix} frames in '
                    f'{seq_img_dir}.')
            for index, stem in enumerate(stems):
                seg_map_path = osp.join(ann_dir, name,
                                        stem + self.seg_map_suffix)
                self._check_exists(seg_map_path,
                                   f'annotation of {name}/{stem}')
                data_list.append(
                    dict(
                        img_path=osp.join(seq_img_dir, stem + self.img_suffix),
                        seg_map_path=seg_map_path,
                        label_map=self.label_map,
                        reduce_zero_label=self.reduce_zero_label,
                        seg_fields=[],
                        sequence=name,
                        frame_index=index,
                        frame_id=stem,
                        num_frames=len(stems)))
        return data_list

    @property
    def sequences(self) -> List[str]:
        """list[str]: Sequence names present in the dataset, in order."""
        return list(self._sequence_index())

    def frames_of(self, sequence: str) -> List[int]:
        """Dataset indices of the frames of ``sequence``, in frame order.

        Args:
            sequence (str): A name from :attr:`sequences`.

        Returns:
            list[int]: Indices usable with ``dataset[i]`` and
            ``dataset.get_data_info(i)``.
        """
        index = self._sequence_index()
        if sequence not in index:
            raise KeyError(f'sequence {sequence!r} is not in the dataset; '
                           f'available: {list(index)}.')
        return list(index[sequence])

    def _sequence_index(self) -> Dict[str, List[int]]:
        # Built from the final data list on each call (cheap: a few thousand
        # frames), so it stays right after `indices` slicing, serialization
        # or `get_subset`.
        self.full_init()
        frames: Dict[str, List[tuple]] = OrderedDict()
        for idx in range(len(self)):
            info = self.get_data_info(idx)
            frames.setdefault(info['sequence'], []).append(
                (info['frame_index'], idx))
        return OrderedDict((seq, [idx for _, idx in sorted(items)])
                           for seq, items in frames.items())

    def _check_exists(self, path: str, what: str) -> None:
        if not fileio.exists(path, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'DAVIS2017Dataset: missing {what}: {path} (expected the '
                'official layout data_root/{ImageSets/2017/<split>.txt, '
                'JPEGImages/480p/<seq>/*.jpg, Annotations/480p/<seq>/*.png}; '
                f'data_root={self.data_root!r}).')
