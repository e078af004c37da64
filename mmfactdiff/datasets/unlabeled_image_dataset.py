# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Any folder of images, optionally with masks, as a segmentation dataset."""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import mmengine
from mmengine.logging import MMLogger
from mmseg.datasets import BaseSegDataset

from mmfactdiff.registry import DATASETS

IMG_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')
_CHECK_MODES = ('none', 'warn', 'error')


def _bad_image_reason(path: str) -> Optional[str]:
    """Why ``path`` is not a readable image, or None if it is."""
    from PIL import Image  # mmcv already depends on Pillow
    try:
        with Image.open(path) as img:
            img.verify()
    except Exception as e:  # PIL raises many types for broken files
        return f'{type(e).__name__}: {e}'
    return None


@DATASETS.register_module()
class UnlabeledImageDataset(BaseSegDataset):
    """Images from a folder tree, for label-free (pre)training.

    ``data_prefix['img_path']`` is scanned recursively for files whose name
    ends (case-insensitively) with one of ``img_suffix``; the list is sorted
    by relative path, so the order is the same on every machine. Only the
    local file system is supported.

    Labels are optional: when ``data_prefix['seg_map_path']`` is set, every
    image ``<dir>/<name><img suffix>`` is paired with the mask
    ``<seg_map_path>/<dir>/<name><seg_map_suffix>`` and a missing mask is an
    error naming the first image without one. Without it, samples have no
    ``seg_map_path`` and the pipeline should be ``LoadImageFromFile`` ...
    ``PackSegInputs`` without ``LoadAnnotations``.

    Args:
        data_prefix (dict): ``img_path`` (the image folder, required) and
            optionally ``seg_map_path`` (the mask folder; None or '' means
            unlabeled). Relative paths are joined to ``data_root``.
            Defaults to ``dict(img_path='')``.
        img_suffix (str | Sequence[str]): Accepted image suffixes, matched
            case-insensitively. Defaults to
            ``('.jpg', '.jpeg', '.png', '.bmp', '.webp')``.
        seg_map_suffix (str): Suffix of the masks. Defaults to '.png'.
        ann_file (str): Optional text file with one image name per line,
            relative to ``img_path``, with or without its suffix; only these
            images are used, in file order. Defaults to '' (use all).
        check_files (str): Validate every image (and mask) at init with
            ``PIL.Image.verify()``: ``'none'`` skips the check (a broken file
            then fails when loaded, naming itself), ``'warn'`` logs each
            broken path and drops its sample, ``'error'`` raises listing all
            broken paths. Defaults to ``'none'``.
        metainfo (dict, optional): Meta information such as ``classes`` and
            ``palette``; needed with ``test_mode=True`` or for evaluation
            with labels. Defaults to None.
        **kwargs: Other :class:`mmseg.datasets.BaseSegDataset` arguments
            (``data_root``, ``pipeline``, ``test_mode``, ``indices``,
            ``reduce_zero_label``, ...).
    """

    def __init__(self,
                 data_prefix: dict = dict(img_path=''),
                 img_suffix: Union[str, Sequence[str]] = IMG_SUFFIXES,
                 seg_map_suffix: str = '.png',
                 ann_file: str = '',
                 check_files: str = 'none',
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        if check_files not in _CHECK_MODES:
            raise ValueError(f'check_files must be one of {_CHECK_MODES}, '
                             f'got {check_files!r}')
        self.check_files = check_files
        suffixes = (img_suffix, ) if isinstance(img_suffix,
                                                str) else tuple(img_suffix)
        if not suffixes or not all(isinstance(s, str) and s for s in suffixes):
            raise ValueError('img_suffix must be a non-empty str or a '
                             f'sequence of them, got {img_suffix!r}')
        # mmengine rejects non-str prefixes, and an empty seg_map_path would
        # become data_root itself after joining: both mean "unlabeled".
        data_prefix = {
            k: v
            for k, v in data_prefix.items()
            if v is not None and not (k == 'seg_map_path' and v == '')
        }
        super().__init__(
            ann_file=ann_file,
            img_suffix=tuple(s.lower() for s in suffixes),
            seg_map_suffix=seg_map_suffix,
            metainfo=metainfo,
            data_prefix=data_prefix,
            **kwargs)

    def _scan(self, img_dir: str) -> List[str]:
        """Sorted relative paths of all images under ``img_dir``."""
        if not img_dir or not osp.isdir(img_dir):
            raise FileNotFoundError(
                f'image folder {img_dir!r} (data_prefix img_path) does not '
                'exist or is not a folder')
        found = []
        # followlinks: datasets are often symlinked into data/.
        for root, dirs, files in os.walk(img_dir, followlinks=True):
            dirs.sort()
            for name in files:
                if name.lower().endswith(self.img_suffix):
                    found.append(osp.relpath(osp.join(root, name), img_dir))
        if not found:
            raise FileNotFoundError(
                f'no images in {img_dir!r} (searched recursively for '
                f'suffixes {self.img_suffix}, case-insensitive)')
        return sorted(found)

    def _split_suffix(self, rel: str) -> Tuple[str, str]:
        """Split ``rel`` into (stem, suffix) for the matching image suffix."""
        low = rel.lower()
        # Longest first, so '.jpeg' wins over a hypothetical '.peg'.
        for s in sorted(self.img_suffix, key=len, reverse=True):
            if low.endswith(s):
                return rel[:-len(s)], rel[-len(s):]
        return rel, ''

    def _select_from_ann_file(self, rels: List[str]) -> List[str]:
        """Images named in ``ann_file``, in its order."""
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'ann_file {self.ann_file!r} not found')
        by_name: Dict[str, List[str]] = {}
        for rel in rels:
            by_name.setdefault(rel, []).append(rel)
            stem = self._split_suffix(rel)[0]
            if stem != rel:
                by_name.setdefault(stem, []).append(rel)
        selected = []
        for line in mmengine.list_from_file(self.ann_file):
            name = line.strip()
            if not name:
                continue
            matches = by_name.get(name, [])
            if not matches:
                raise FileNotFoundError(
                    f'{name!r} listed in {self.ann_file!r} matches no image '
                    f'in {self.data_prefix["img_path"]!r} with suffixes '
                    f'{self.img_suffix}')
            if len(matches) > 1:
                raise ValueError(
                    f'{name!r} listed in {self.ann_file!r} is ambiguous: '
                    f'{matches}; write the name with its suffix')
            selected.append(matches[0])
        return selected

    def load_data_list(self) -> List[dict]:
        """Scan the folder, pair masks, and validate files if asked."""
        img_dir = self.data_prefix.get('img_path', '')
        ann_dir = self.data_prefix.get('seg_map_path') or None
        rels = self._scan(img_dir)
        if self.ann_file:
            rels = self._select_from_ann_file(rels)

        data_list = []
        for rel in rels:
            info = dict(img_path=osp.join(img_dir, rel))
            if ann_dir is not None:
                info['seg_map_path'] = osp.join(
                    ann_dir,
                    self._split_suffix(rel)[0] + self.seg_map_suffix)
            info['label_map'] = self.label_map
            info['reduce_zero_label'] = self.reduce_zero_label
            info['seg_fields'] = []
            data_list.append(info)

        # Drop broken images first: a corrupt image needs no mask.
        if self.check_files != 'none':
            data_list = self._drop_bad_files(data_list, img_dir)
        for info in data_list:
            seg = info.get('seg_map_path')
            if seg is not None and not osp.isfile(seg):
                raise FileNotFoundError(
                    f'image {info["img_path"]!r} has no mask: expected '
                    f'{seg!r}')
        return data_list

    def _drop_bad_files(self, data_list: List[dict],
                        img_dir: str) -> List[dict]:
        """Apply ``check_files`` ('warn' or 'error') to every sample."""
        good, bad = [], []
        for info in data_list:
            paths = [info['img_path'], info.get('seg_map_path')]
            # A missing mask is reported separately, by the caller.
            reasons = [(p, _bad_image_reason(p)) for p in paths
                       if p and osp.exists(p)]
            broken = [(p, r) for p, r in reasons if r is not None]
            if broken:
                bad.extend(broken)
            else:
                good.append(info)
        if not bad:
            return good
        listing = '\n'.join(f'  {p} ({r})' for p, r in bad)
        if self.check_files == 'error':
            raise ValueError(f'{len(bad)} unreadable file(s) in {img_dir!r} '
                             f"(check_files='error'):\n{listing}")
        logger = MMLogger.get_current_instance()
        for p, r in bad:
            logger.warning(f'UnlabeledImageDataset: skipping unreadable '
                           f'file {p} ({r})')
        if not good:
            raise ValueError(
                f'every image in {img_dir!r} is unreadable:\n{listing}')
        return good
