# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Image helpers shared by the dataset converters
(``tools/dataset_converters``)."""
import os
import os.path as osp
import shutil
from typing import Optional

import numpy as np
from PIL import Image

__all__ = ['resize_center_crop', 'save_image', 'save_mask']


def resize_center_crop(image: np.ndarray,
                       size: int,
                       nearest: bool = False) -> np.ndarray:
    """Resize the short side to ``size`` and crop the centred square.

    This is the IEM / ReDO preprocessing (images bicubic, ground truth
    nearest so that labels stay labels).

    Args:
        image (np.ndarray): ``(H, W)`` or ``(H, W, C)`` uint8 array.
        size (int): Side of the output square.
        nearest (bool): Nearest-neighbour resampling (for label maps).
            Defaults to False (bicubic).

    Returns:
        np.ndarray: ``(size, size[, C])`` array of the same dtype.
    """
    if size < 1:
        raise ValueError(f'size must be >= 1, got {size}')
    h, w = image.shape[:2]
    scale = size / min(h, w)
    new_w, new_h = max(size, round(w * scale)), max(size, round(h * scale))
    resample = Image.NEAREST if nearest else Image.BICUBIC
    resized = np.asarray(
        Image.fromarray(image).resize((new_w, new_h), resample))
    top, left = (new_h - size) // 2, (new_w - size) // 2
    return resized[top:top + size, left:left + size].copy()


def save_image(src: str,
               dst: str,
               size: Optional[int] = None,
               image: Optional[np.ndarray] = None) -> None:
    """Write an RGB image: a byte copy of ``src`` when nothing changes,
    else the (resized, centre-cropped) pixels as a quality-95 JPEG or a PNG
    (by the suffix of ``dst``).

    Args:
        src (str): Source file.
        dst (str): Output file; folders are created.
        size (int, optional): :func:`resize_center_crop` side; None keeps
            the resolution. Defaults to None.
        image (np.ndarray, optional): RGB pixels to write instead of
            reading ``src``. Defaults to None.
    """
    os.makedirs(osp.dirname(dst) or '.', exist_ok=True)
    same_suffix = osp.splitext(src)[1].lower() == osp.splitext(dst)[1].lower()
    if size is None and image is None and same_suffix:
        shutil.copyfile(src, dst)
        return
    if image is None:
        with Image.open(src) as img:
            image = np.asarray(img.convert('RGB'))
    if size is not None:
        image = resize_center_crop(image, size)
    Image.fromarray(image).save(dst, quality=95)


def save_mask(mask: np.ndarray, dst: str, size: Optional[int] = None) -> None:
    """Write a label map as a single-channel uint8 PNG (nearest resize).

    Args:
        mask (np.ndarray): ``(H, W)`` integer labels in ``0..255``.
        dst (str): Output ``.png`` path; folders are created.
        size (int, optional): :func:`resize_center_crop` side; None keeps
            the resolution. Defaults to None.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2 or mask.size and (mask.min() < 0 or mask.max() > 255):
        raise ValueError(f'{dst}: a mask must be (H, W) with labels in '
                         f'0..255, got shape {mask.shape}')
    mask = mask.astype(np.uint8)
    if size is not None:
        mask = resize_center_crop(mask, size, nearest=True)
    os.makedirs(osp.dirname(dst) or '.', exist_ok=True)
    Image.fromarray(mask, mode='L').save(dst)
