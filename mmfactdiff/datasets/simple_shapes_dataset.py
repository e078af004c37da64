# Copyright (c) mmfactdiff contributors. All rights reserved.
"""One flat-coloured disc or square on a two-colour gradient."""
from typing import Optional, Tuple

import numpy as np

from mmfactdiff.registry import DATASETS
from .synthetic_shapes_dataset import SyntheticShapesDataset


@DATASETS.register_module()
class SimpleShapesDataset(SyntheticShapesDataset):
    """The reference probe's images, generated on the fly.

    Every image holds one object, a disc or a square (even odds), in a flat
    random colour with a faint diagonal sine texture (amplitude 0.15,
    random frequency), on a linear gradient between two random colours
    along a random direction. These are the images of the CPU probe in the
    method spec (``shared/reference/factorized_probe.py``), drawn with the
    same distributions, so that the plugin can be compared with the probe
    on its own data. They are easier than :class:`SyntheticShapesDataset`'s:
    no background waves, no strong object textures, no pixel noise.

    In unit coordinates ``[-1, 1]^2``: the centre is uniform in
    ``[-0.5, 0.5]^2``; the radius (half the side of a square) is uniform
    in ``[0.25, 0.55]``, so objects cover about 5% to 30% of the image and
    may be cut by its border; the texture is ``0.15 * sin(f * pi * (x +
    y))`` with ``f`` uniform in ``[3, 11]``. Colours are uniform in
    ``[0, 1]^3``; the gradient runs from ``-0.21`` to ``1.21`` along the
    image diagonal, so background values are clipped to ``[0, 1]`` when
    the image is quantised to uint8.

    Image ``i`` is a pure function of ``(seed, i)`` (drawn with
    ``np.random.default_rng([seed, i])``), as in
    :class:`SyntheticShapesDataset`, whose loading behaviour, metainfo and
    pipeline handling this class shares. Labels: 0 background, 1 object.

    Args:
        num_samples (int): Number of images. Defaults to 2000.
        img_size (int): Side of the square images, 32 to 128.
            Defaults to 32.
        seed (int): Seed of the whole dataset. Defaults to 0.
        metainfo (dict, optional): Extra meta information. Defaults to
            None.
        **kwargs: Other :class:`mmseg.datasets.BaseSegDataset` arguments
            (``pipeline``, ``test_mode``, ...).
    """

    def __init__(self,
                 num_samples: int = 2000,
                 img_size: int = 32,
                 seed: int = 0,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        for key in ('num_kinds', 'objects_per_image', 'coverage',
                    'background_waves', 'textures', 'label_mode'):
            if key in kwargs:
                raise TypeError(
                    f'SimpleShapesDataset has no {key!r} option (its images '
                    'follow the probe; see SyntheticShapesDataset for '
                    'adjustable ones)')
        super().__init__(
            num_samples=num_samples,
            img_size=img_size,
            num_kinds=2,
            seed=seed,
            metainfo=metainfo,
            **kwargs)

    def render(self, index: int) -> Tuple[np.ndarray, np.ndarray]:
        """Draw sample ``index``.

        Returns:
            tuple[np.ndarray, np.ndarray]: ``img_rgb`` (uint8 HxWx3, RGB)
            and ``mask`` (uint8 HxW, 1 on the object).
        """
        rng = np.random.default_rng([self.seed, int(index)])
        grid = np.linspace(-1.0, 1.0, self.img_size)
        yy, xx = np.meshgrid(grid, grid, indexing='ij')
        c0, c1 = rng.random(3), rng.random(3)
        ang = rng.random() * 2 * np.pi
        g = ((np.cos(ang) * xx + np.sin(ang) * yy + 1) / 2)[..., None]
        img = c0 * g + c1 * (1 - g)
        cx, cy = rng.random(2) - 0.5
        radius = 0.25 + rng.random() * 0.3
        if rng.random() < 0.5:
            mask = (xx - cx)**2 + (yy - cy)**2 < radius**2
        else:
            mask = (np.abs(xx - cx) < radius) & (np.abs(yy - cy) < radius)
        colour = rng.random(3)
        freq = 3 + rng.random() * 8
        tex = 0.15 * np.sin(freq * np.pi * (xx + yy))[..., None]
        img = np.where(mask[..., None], np.clip(colour + tex, 0, 1), img)
        img = np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return img, mask.astype(np.uint8)
