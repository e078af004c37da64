# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Pictures of images and their region masks (sample grids, reports)."""
from typing import List, Optional, Sequence

import numpy as np
from torch import Tensor


def region_palette(num_regions: int) -> np.ndarray:
    """A fixed, well-separated RGB colour per region id (K, 3) uint8."""
    base = np.array(
        [[230, 25, 75], [60, 180, 75], [0, 130, 200], [255, 225, 25],
         [245, 130, 48], [145, 30, 180], [70, 240, 240], [240, 50, 230],
         [210, 245, 60], [250, 190, 212], [0, 128, 128], [170, 110, 40]],
        dtype=np.uint8)
    if num_regions <= len(base):
        return base[:num_regions]
    rng = np.random.default_rng(0)
    extra = rng.integers(0, 256, (num_regions - len(base), 3), dtype=np.uint8)
    return np.concatenate([base, extra])


def region_meta(num_regions: int,
                names: Optional[Sequence[str]] = None,
                palette: Optional[Sequence[Sequence[int]]] = None) -> dict:
    """``classes`` and ``palette`` of K unsupervised regions, as mmseg's
    visualisers read them from ``dataset_meta``.

    Args:
        num_regions (int): K.
        names (Sequence[str], optional): K names; ``'region k'`` if None.
        palette (Sequence, optional): K RGB triples; :func:`region_palette`
            if None.

    Raises:
        ValueError: when ``names`` or ``palette`` does not have K entries.
    """
    k = int(num_regions)
    names = (
        tuple(names) if names is not None else tuple(f'region {i}'
                                                     for i in range(k)))
    palette = ([list(map(int, c)) for c in palette]
               if palette is not None else region_palette(k).tolist())
    if len(names) != k or len(palette) != k:
        raise ValueError(
            f'region_names / region_palette need {k} entries (one per '
            f'region), got {len(names)} / {len(palette)}')
    return dict(classes=names, palette=palette)


def to_uint8_images(images: Tensor) -> np.ndarray:
    """Model-space images (N, C, H, W) in [-1, 1] to uint8 (N, H, W, C)."""
    x = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round()
    return x.byte().permute(0, 2, 3, 1).cpu().numpy()


def colorize(region_ids: np.ndarray, num_regions: int) -> np.ndarray:
    """Region ids (..., H, W) to RGB (..., H, W, 3)."""
    return region_palette(num_regions)[region_ids]


def make_grid(images_rgb: np.ndarray,
              region_ids: np.ndarray,
              num_regions: int,
              ncols: int = 4,
              pad: int = 2,
              scale: int = 1,
              extra: Optional[Sequence[np.ndarray]] = None) -> np.ndarray:
    """A grid of tiles, each the image beside its coloured mask.

    Args:
        images_rgb (np.ndarray): (N, H, W, 3) uint8.
        region_ids (np.ndarray): (N, H, W) int.
        num_regions (int): K, for the palette.
        ncols (int): Tiles per row. Defaults to 4.
        pad (int): White padding between tiles. Defaults to 2.
        scale (int): Nearest-neighbour upscaling of every tile.
            Defaults to 1.
        extra (Sequence[np.ndarray], optional): More (N, H, W, 3) panels
            appended to each tile (e.g. the ground truth). Defaults to None.

    Returns:
        np.ndarray: (rows, cols, 3) uint8 RGB picture.
    """
    panels: List[np.ndarray] = [images_rgb, colorize(region_ids, num_regions)]
    panels += list(extra or [])
    tiles = np.concatenate(panels, axis=2)  # side by side
    if scale > 1:
        tiles = tiles.repeat(scale, axis=1).repeat(scale, axis=2)
    n, h, w, _ = tiles.shape
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    grid = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, 3),
                   255,
                   dtype=np.uint8)
    for i in range(n):
        r, c = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        grid[y:y + h, x:x + w] = tiles[i]
    return grid


def masks_to_ids(masks: Tensor) -> np.ndarray:
    """Soft masks (N, K, H, W) to region ids (N, H, W) by argmax."""
    return masks.argmax(dim=1).cpu().numpy().astype(np.int64)


__all__ = [
    'region_meta', 'region_palette', 'to_uint8_images', 'colorize',
    'make_grid', 'masks_to_ids'
]
