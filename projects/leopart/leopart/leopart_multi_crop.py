# Copyright (c) mmfactdiff contributors. All rights reserved.
import math
import random
from typing import List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform
from torch import Tensor

from mmfactdiff.registry import TRANSFORMS

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def crop_pair_boxes(boxes: Tensor, sizes: Sequence[int],
                    num_global: int) -> Tuple[Tensor, Tensor]:
    """Where each crop overlaps each global crop, in both crops' pixels.

    Args:
        boxes (Tensor): (N, 4) crop boxes ``x1, y1, x2, y2`` in image
            pixels, the ``num_global`` global crops first.
        sizes (Sequence[int]): Output side of each crop (N values).
        num_global (int): Number of global crops.

    Returns:
        tuple[Tensor, Tensor]: ``gc`` (num_global, N, 4): the overlap of
        global crop g with crop v in global crop g's output pixels, and
        ``all`` (N, num_global, 4): the same overlap in crop v's output
        pixels.
    """
    sizes_t = boxes.new_tensor([float(s) for s in sizes])
    left_top = torch.max(boxes[:num_global, None, :2], boxes[None, :, :2])
    right_bottom = torch.min(boxes[:num_global, None, 2:], boxes[None, :, 2:])
    if not bool(((right_bottom - left_top) > 0).all()):
        raise ValueError('crop_pair_boxes: a crop does not overlap every '
                         'global crop')
    origin = boxes[:, :2]
    extent = boxes[:, 2:] - boxes[:, :2]
    # in global crop g's pixels: (g, v)
    scale_g = (sizes_t[:num_global] / 1.0)[:, None, None]
    gc = torch.cat([(left_top - origin[:num_global, None]),
                    (right_bottom - origin[:num_global, None])],
                   dim=-1)
    gc = gc / extent[:num_global, None].repeat(1, 1, 2) * scale_g
    # in crop v's pixels: (v, g)
    lt_v, rb_v = left_top.transpose(0, 1), right_bottom.transpose(0, 1)
    scale_v = sizes_t[:, None, None]
    all_ = torch.cat([lt_v - origin[:, None], rb_v - origin[:, None]], dim=-1)
    all_ = all_ / extent[:, None].repeat(1, 1, 2) * scale_v
    return gc, all_


@TRANSFORMS.register_module()
class LeopartMultiCrop(BaseTransform):
    """Leopart's multi-crop views of one image, with the boxes that align
    them (``src/leopart_transforms.py`` of the official code, re-written).

    ``num_crops[0]`` global and ``num_crops[1]`` local crops are drawn as
    random resized crops (area in ``[min_scale, max_scale]`` of the image,
    aspect ratio in [3/4, 4/3]) and resized to ``sizes``; every crop after
    the first is redrawn until it overlaps each global crop drawn so far by
    more than ``min_intersection`` of the image's area (twice that between
    two global crops), so that every pair has a loss. Each crop then gets
    colour jitter (p = 0.8, strengths 0.8, 0.8, 0.8, 0.2 times
    ``jitter_strength``), greyscale (p = 0.2) and Gaussian blur (p = 0.5,
    sigma in ``[0.1, 2] * blur_strength``), and is normalised. There is no
    flip (the boxes would have to follow it).

    Adds ``crops`` (list of (3, size, size) float tensors, RGB, normalised),
    ``gc_boxes`` and ``all_boxes`` (:func:`crop_pair_boxes`).

    Args:
        sizes (Sequence[int]): Output side of the global and local crops.
            Defaults to (224, 96) (the official).
        num_crops (Sequence[int]): Global and local crop counts.
            Defaults to (2, 4).
        min_scale (Sequence[float]): Smallest crop area, as a fraction of
            the image, for global and local crops. Defaults to (0.25, 0.05).
        max_scale (Sequence[float]): Largest crop area. Defaults to
            (1.0, 0.25).
        min_intersection (float): Smallest overlap with every global crop,
            as a fraction of the image area. Defaults to 0.01.
        jitter_strength (float): Colour jitter strength. Defaults to 1.0.
        blur_strength (float): Blur sigma scale. Defaults to 1.0.
        max_attempts (int): Draws per crop before giving up with an error
            naming the setting. Defaults to 1000.
        mean (Sequence[float]): RGB mean of the normalisation, in [0, 1].
            Defaults to ImageNet's (DINO's).
        std (Sequence[float]): RGB std. Defaults to ImageNet's.
        to_rgb (bool): The input ``img`` is BGR (mmcv's convention).
            Defaults to True.
    """

    def __init__(self,
                 sizes: Sequence[int] = (224, 96),
                 num_crops: Sequence[int] = (2, 4),
                 min_scale: Sequence[float] = (0.25, 0.05),
                 max_scale: Sequence[float] = (1.0, 0.25),
                 min_intersection: float = 0.01,
                 jitter_strength: float = 1.0,
                 blur_strength: float = 1.0,
                 max_attempts: int = 1000,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 to_rgb: bool = True) -> None:
        if not (len(sizes) == len(num_crops) == len(min_scale) ==
                len(max_scale) == 2):
            raise ValueError('LeopartMultiCrop: sizes, num_crops, min_scale '
                             'and max_scale need two values each (global, '
                             'local)')
        if num_crops[0] < 2 or num_crops[1] < 0:
            raise ValueError('LeopartMultiCrop: num_crops needs at least 2 '
                             f'global crops, got {tuple(num_crops)}')
        if not 0 < min_intersection < 1:
            raise ValueError('LeopartMultiCrop: min_intersection must be in '
                             f'(0, 1), got {min_intersection}')
        for lo, hi in zip(min_scale, max_scale):
            if not 0 < lo <= hi <= 1:
                raise ValueError('LeopartMultiCrop: need 0 < min_scale <= '
                                 f'max_scale <= 1, got {lo}, {hi}')
        self.sizes = [int(s) for s in sizes]
        self.num_crops = [int(n) for n in num_crops]
        self.min_scale = list(min_scale)
        self.max_scale = list(max_scale)
        self.min_intersection = float(min_intersection)
        self.jitter = [0.8 * jitter_strength] * 3 + [0.2 * jitter_strength]
        self.blur_sigma = (0.1 * blur_strength, 2.0 * blur_strength)
        self.max_attempts = int(max_attempts)
        self.mean = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)
        self.to_rgb = to_rgb

    @staticmethod
    def _draw_box(h: int, w: int, scale: Tuple[float, float]) -> List[float]:
        """A random resized crop's box (torchvision's sampling)."""
        area = h * w
        log_ratio = (math.log(3 / 4), math.log(4 / 3))
        for _ in range(10):
            target = area * random.uniform(*scale)
            ratio = math.exp(random.uniform(*log_ratio))
            cw = int(round(math.sqrt(target * ratio)))
            ch = int(round(math.sqrt(target / ratio)))
            if 0 < cw <= w and 0 < ch <= h:
                y1 = random.randint(0, h - ch)
                x1 = random.randint(0, w - cw)
                return [x1, y1, x1 + cw, y1 + ch]
        # fall back to the whole image, as torchvision's centre crop does
        # for ratios it cannot draw
        return [0, 0, w, h]

    def _overlaps(self, box: List[float], globals_: List[List[float]],
                  need: float) -> bool:
        for g in globals_:
            iw = min(box[2], g[2]) - max(box[0], g[0])
            ih = min(box[3], g[3]) - max(box[1], g[1])
            if iw <= 0 or ih <= 0 or iw * ih <= need:
                return False
        return True

    def _colour(self, img: Tensor) -> Tensor:
        """Jitter, greyscale and blur of one (3, h, w) crop in [0, 1]."""
        import torchvision.transforms as T
        import torchvision.transforms.functional as TF
        if random.random() < 0.8:
            img = T.ColorJitter(*self.jitter)(img)
        if random.random() < 0.2:
            img = TF.rgb_to_grayscale(img, num_output_channels=3)
        if random.random() < 0.5:
            sigma = random.uniform(*self.blur_sigma)
            # a kernel reaching 3 sigma, odd, at most the crop's side
            k = min(2 * int(math.ceil(3 * sigma)) + 1,
                    (min(img.shape[-2:]) // 2) * 2 - 1)
            if k >= 3:
                img = TF.gaussian_blur(img, [k, k], [sigma, sigma])
        return img.clamp(0, 1)

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f'LeopartMultiCrop needs an HxWx3 image, got '
                             f'shape {img.shape} '
                             f'({results.get("img_path", "no path")})')
        if self.to_rgb:
            img = img[..., ::-1]
        image = torch.from_numpy(np.ascontiguousarray(img)).permute(
            2, 0, 1).float() / 255.
        h, w = image.shape[-2:]
        n_global, n_local = self.num_crops
        boxes, crops, out_sizes = [], [], []
        for i in range(n_global + n_local):
            kind = 0 if i < n_global else 1
            scale = (self.min_scale[kind], self.max_scale[kind])
            need = self.min_intersection * h * w * (2 if kind == 0 else 1)
            for _ in range(self.max_attempts):
                box = self._draw_box(h, w, scale)
                if i == 0 or self._overlaps(box, boxes[:min(i, n_global)],
                                            need):
                    break
            else:
                raise RuntimeError(
                    f'LeopartMultiCrop: no crop {i} overlapping every global '
                    f'crop by {self.min_intersection:.0%} of the image in '
                    f'{self.max_attempts} draws ({results.get("img_path")}); '
                    'raise max_scale or lower min_intersection')
            x1, y1, x2, y2 = box
            size = self.sizes[kind]
            crop = F.interpolate(
                image[None, :, y1:y2, x1:x2],
                size=(size, size),
                mode='bilinear',
                align_corners=False,
                antialias=True)[0]
            crop = (self._colour(crop) - self.mean) / self.std
            boxes.append(box)
            crops.append(crop)
            out_sizes.append(size)
        gc, all_ = crop_pair_boxes(
            torch.tensor(boxes, dtype=torch.float32), out_sizes, n_global)
        results['crops'] = crops
        results['gc_boxes'] = gc
        results['all_boxes'] = all_
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(sizes={self.sizes}, '
                f'num_crops={self.num_crops}, min_scale={self.min_scale}, '
                f'max_scale={self.max_scale})')
