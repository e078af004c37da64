# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Procedurally generated textured shapes with ground-truth masks."""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmseg.datasets import BaseSegDataset

from mmfactdiff.registry import DATASETS

# File-loading transforms: the samples arrive rendered, so these are skipped.
LOADING_STEPS = ('LoadImageFromFile', 'LoadImageFromNDArray',
                 'InferencerLoader', 'LoadAnnotations')
# Shape kinds in the order they are enabled by ``num_kinds``: the first two
# match the probe of the method spec (an ellipse or a square).
SHAPE_KINDS = ('ellipse', 'rectangle', 'triangle', 'star', 'cross', 'hexagon',
               'ring', 'crescent')

# One fixed colour per label for visualisers (background is black).
_KIND_PALETTE = [[0, 0, 0], [220, 20, 60], [0, 128, 255], [60, 180, 75],
                 [255, 200, 0], [145, 30, 180], [70, 240, 240], [240, 50, 230],
                 [170, 110, 40]]

_MIN_SIZE, _MAX_SIZE = 32, 128
# Object textures, in the order of the coin that picks one.
TEXTURES = ('stripe', 'checker')
# Arguments that make the images easier or harder (the rest set their size,
# number, labels and seed); analysis tools name runs by them.
DIFFICULTY_ARGS = ('num_kinds', 'objects_per_image', 'coverage',
                   'background_waves', 'textures')


def _polygon_mask(u: np.ndarray, v: np.ndarray, points: int,
                  inner: float) -> np.ndarray:
    """Star-polygon test in unit coordinates (outer radius 1).

    The outline alternates outer vertices (radius 1) and inner vertices
    (radius ``inner``) at half-sector angles. A regular polygon is the
    special case ``inner = cos(pi / points)``, where the inner vertex lies on
    the straight edge between two outer ones.
    """
    half = np.pi / points
    phi = np.arctan2(v, u)
    r = np.hypot(u, v)
    # Fold every pixel into the half sector [0, half] by symmetry.
    a = np.abs(np.mod(phi + half, 2 * half) - half)
    qx, qy = r * np.cos(a), r * np.sin(a)
    # Edge from the outer vertex (1, 0) to the inner vertex; the origin side
    # of that edge is inside.
    dx, dy = inner * np.cos(half) - 1.0, inner * np.sin(half)
    return dx * qy - dy * (qx - 1.0) >= 0


def _shape_mask(kind: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Boolean mask of a unit-sized shape in local coordinates ``(u, v)``."""
    if kind == 'ellipse':
        return u * u + v * v <= 1.0
    if kind == 'rectangle':
        return np.maximum(np.abs(u), np.abs(v)) <= 0.8
    if kind == 'triangle':
        return _polygon_mask(u, v, 3, np.cos(np.pi / 3))
    if kind == 'star':
        return _polygon_mask(u, v, 5, 0.5)
    if kind == 'cross':
        au, av = np.abs(u), np.abs(v)
        return ((au <= 0.35) & (av <= 0.95)) | ((av <= 0.35) & (au <= 0.95))
    if kind == 'hexagon':
        return _polygon_mask(u, v, 6, np.cos(np.pi / 6))
    if kind == 'ring':
        r2 = u * u + v * v
        return (r2 <= 1.0) & (r2 >= 0.3)
    if kind == 'crescent':
        return (u * u + v * v <= 1.0) & ((u - 0.55)**2 + v * v >= 0.55)
    raise ValueError(f'unknown shape kind {kind!r}')


def _unit_areas() -> Dict[str, float]:
    """Area of every unit shape, measured once on a fine grid.

    Used to pick the object scale that gives a target image coverage.
    """
    g = np.linspace(-1.0, 1.0, 401)
    u, v = np.meshgrid(g, g)
    cell = (g[1] - g[0])**2
    return {k: float(_shape_mask(k, u, v).sum() * cell) for k in SHAPE_KINDS}


_UNIT_AREAS = _unit_areas()


@DATASETS.register_module()
class SyntheticShapesDataset(BaseSegDataset):
    """Textured shapes on textured backgrounds, generated on the fly.

    Every image is a pure function of ``(seed, index)`` (it is drawn with
    ``np.random.default_rng([seed, index])``), so no files are read or
    written and the same configuration always gives the same bytes. Use a
    different ``seed`` per split (for example 0 for train and 1 for val) so
    that splits do not overlap.

    What an image holds:

    - background: a smooth gradient between two random colours along a random
      direction, plus a low-frequency texture (a few long-wavelength
      sinusoids; ``background_waves`` sets their amplitude, 0 removes them);
    - ``objects_per_image`` objects, each a shape kind drawn uniformly from
      the first ``num_kinds`` of :data:`SHAPE_KINDS` (ellipse, rectangle,
      triangle, star, cross, hexagon, ring, crescent), with random position,
      rotation, aspect ratio and scale (all objects together cover a
      fraction of the image drawn from ``coverage``, 10-50% by default;
      occlusion, the fit-in-the-image cap and very thin shapes can land
      slightly outside), its own colour and a stripe or checker texture (from
      ``textures``) of random frequency, orientation and contrast. Later
      objects occlude earlier ones;
    - a little pixel noise.

    The defaults are the built-in data of every measurement in the docs.
    ``num_kinds=2, background_waves=(0, 0), textures=('stripe',)`` comes
    close to the simpler images of the method spec's probe (an ellipse or a
    square with stripes on a plain two-colour gradient). ``coverage``,
    ``background_waves`` and ``textures`` change no other draw: shapes,
    places and colours stay where they were (objects only grow or shrink
    with ``coverage``).

    Object and background colours are drawn from the same distribution, so
    colour alone does not always separate them: colour k-means is a real but
    beatable baseline.

    Each sample reaches the pipeline already loaded, as ``results['img']``
    (uint8 HxWx3, BGR like ``mmcv.imread``) and ``results['gt_seg_map']``
    (uint8 HxW) with ``seg_fields=['gt_seg_map']``. Loading steps in the
    pipeline (``LoadImageFromFile``, ``LoadImageFromNDArray``,
    ``InferencerLoader``, ``LoadAnnotations``) are therefore dropped when the
    dataset is built, so one config ``test_pipeline`` (loading, resize, pack)
    serves both this dataset and file inputs (``inference_model``,
    ``MMSegInferencer``, which requires a ``LoadImageFromFile`` step).
    ``img_path`` is a pseudo name such as ``synthetic/seed0/000012.png``
    that visualisers and metrics use as an identifier only.

    Args:
        num_samples (int): Number of images in the dataset. Defaults to 2000.
        img_size (int): Side of the square images, 32 to 128.
            Defaults to 64.
        num_kinds (int): Number of shape kinds in use, 1 to
            ``len(SHAPE_KINDS)`` (8). Defaults to 4.
        objects_per_image (tuple[int, int]): Inclusive (min, max) number of
            objects per image. Defaults to (1, 1).
        coverage (tuple[float, float]): Range of the fraction of the image
            that all objects of an image together aim to cover, in
            (0, 0.7]. Defaults to (0.1, 0.5).
        label_mode (str): ``'binary'`` (0 background, 1 object) or
            ``'kind'`` (0 background, ``1..num_kinds`` by shape kind).
            ``classes`` and ``palette`` of the metainfo follow the mode.
            Defaults to ``'binary'``.
        background_waves (tuple[float, float]): Range of the amplitude of
            the background's low-frequency waves, in [0, 1] image units;
            ``(0, 0)`` leaves a plain two-colour gradient. Defaults to
            (0.03, 0.08).
        textures (tuple[str]): Object textures to draw from, a non-empty
            subset of ``('stripe', 'checker')``; each object gets one of
            them with equal odds. Defaults to both.
        seed (int): Seed of the whole dataset; image ``i`` depends only on
            ``(seed, i)`` and the arguments above. Defaults to 0.
        metainfo (dict, optional): Extra meta information. ``classes`` given
            here must have as many entries as the label mode has labels.
            Defaults to None.
        **kwargs: Other :class:`mmseg.datasets.BaseSegDataset` arguments,
            such as ``pipeline``, ``test_mode``, ``indices``,
            ``serialize_data`` or ``lazy_init``. File arguments
            (``data_root``, ``data_prefix``, ``ann_file``, suffixes) are
            accepted but unused.
    """
    # Default (binary) metainfo; ``__init__`` replaces it by the metainfo of
    # the label mode in use.
    METAINFO = dict(
        classes=('background', 'object'),
        palette=[_KIND_PALETTE[0], _KIND_PALETTE[1]])

    def __init__(self,
                 num_samples: int = 2000,
                 img_size: int = 64,
                 num_kinds: int = 4,
                 objects_per_image: Sequence[int] = (1, 1),
                 coverage: Sequence[float] = (0.1, 0.5),
                 label_mode: str = 'binary',
                 background_waves: Sequence[float] = (0.03, 0.08),
                 textures: Sequence[str] = TEXTURES,
                 seed: int = 0,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        self.num_samples = self._check_int('num_samples', num_samples, 1)
        self.img_size = self._check_int('img_size', img_size, _MIN_SIZE,
                                        _MAX_SIZE)
        self.num_kinds = self._check_int('num_kinds', num_kinds, 1,
                                         len(SHAPE_KINDS))
        if (not isinstance(objects_per_image, (tuple, list))
                or len(objects_per_image) != 2):
            raise ValueError('objects_per_image must be a (min, max) pair, '
                             f'got {objects_per_image!r}')
        lo = self._check_int('objects_per_image[0]', objects_per_image[0], 1)
        hi = self._check_int('objects_per_image[1]', objects_per_image[1], lo)
        self.objects_per_image = (lo, hi)
        if (not isinstance(coverage, (tuple, list)) or len(coverage) != 2
                or not 0 < coverage[0] <= coverage[1] <= 0.7):
            raise ValueError('coverage must be a (min, max) pair with '
                             f'0 < min <= max <= 0.7, got {coverage!r}')
        self.coverage = tuple(float(c) for c in coverage)
        if label_mode not in ('binary', 'kind'):
            raise ValueError("label_mode must be 'binary' or 'kind', got "
                             f'{label_mode!r}')
        self.label_mode = label_mode
        if (not isinstance(background_waves,
                           (tuple, list)) or len(background_waves) != 2
                or not 0 <= background_waves[0] <= background_waves[1]):
            raise ValueError('background_waves must be a (min, max) pair with '
                             f'0 <= min <= max, got {background_waves!r}')
        self.background_waves = tuple(float(a) for a in background_waves)
        if (isinstance(textures, str) or not textures
                or any(t not in TEXTURES for t in textures)):
            raise ValueError(f'textures must be a non-empty subset of '
                             f'{TEXTURES}, got {textures!r}')
        self.textures = tuple(textures)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
                or seed < 0:
            raise ValueError(f'seed must be a non-negative int, got {seed!r}')
        self.seed = int(seed)
        self.kinds = SHAPE_KINDS[:self.num_kinds]

        meta = self._mode_metainfo()
        meta.update(metainfo or {})
        num_labels = len(self._mode_metainfo()['classes'])
        if len(meta['classes']) != num_labels:
            raise ValueError(
                f'metainfo classes {tuple(meta["classes"])} must have '
                f'{num_labels} entries for label_mode={label_mode!r}')
        if len(meta.get('palette', [])) not in (0, num_labels):
            raise ValueError(
                f'metainfo palette must have {num_labels} colours, got '
                f'{len(meta["palette"])}')
        if kwargs.get('pipeline'):
            kwargs['pipeline'] = [
                step for step in kwargs['pipeline']
                if not (isinstance(step, dict)
                        and step.get('type') in LOADING_STEPS)
            ]
        super().__init__(metainfo=meta, **kwargs)

    @staticmethod
    def _check_int(name: str, value, low: int, high: int = None) -> int:
        """Validate an integer argument with a message naming it."""
        ok = isinstance(value,
                        (int, np.integer)) and not isinstance(value, bool)
        if not ok or value < low or (high is not None and value > high):
            rng = f'[{low}, {high}]' if high is not None else f'>= {low}'
            raise ValueError(f'{name} must be an int in {rng}, got {value!r}')
        return int(value)

    def _mode_metainfo(self) -> dict:
        """Classes and palette of the current label mode."""
        if self.label_mode == 'binary':
            classes = ('background', 'object')
        else:
            classes = ('background', ) + tuple(self.kinds)
        return dict(
            classes=classes,
            palette=[list(c) for c in _KIND_PALETTE[:len(classes)]])

    @classmethod
    def get_label_map(cls, new_classes: Optional[Sequence] = None) -> None:
        """No label remapping: masks are rendered directly in the ids of the
        label mode, whose classes replace the class-level ``METAINFO``."""
        return None

    def load_data_list(self) -> List[dict]:
        """Light per-sample records; pixels are made in
        :meth:`get_data_info`, so serialising the list stays cheap."""
        return [
            dict(
                index=i,
                seed=self.seed,
                img_path=f'synthetic/seed{self.seed}/{i:06d}.png',
                seg_map_path=None,
                label_map=None,
                reduce_zero_label=False,
                seg_fields=[]) for i in range(self.num_samples)
        ]

    def get_data_info(self, idx: int) -> dict:
        """Sample record with the rendered image (BGR) and mask added."""
        info = super().get_data_info(idx)
        img_rgb, mask = self.render(info['index'])
        info['img'] = np.ascontiguousarray(img_rgb[..., ::-1])
        info['gt_seg_map'] = mask
        info['seg_fields'] = ['gt_seg_map']
        info['img_shape'] = mask.shape
        info['ori_shape'] = mask.shape
        return info

    def render(self, index: int) -> Tuple[np.ndarray, np.ndarray]:
        """Draw sample ``index`` (of the full sequence for this seed).

        Args:
            index (int): Sample index; any non-negative int, also beyond
                ``num_samples``.

        Returns:
            tuple[np.ndarray, np.ndarray]: ``img_rgb`` (uint8 HxWx3, RGB)
            and ``mask`` (uint8 HxW, ids of the label mode).
        """
        rng = np.random.default_rng([self.seed, int(index)])
        size = self.img_size
        ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5

        img = self._background(rng, xs, ys)
        mask = np.zeros((size, size), dtype=np.uint8)
        lo, hi = self.objects_per_image
        num_obj = int(rng.integers(lo, hi + 1))
        # Total coverage target, shared equally by the objects.
        share = rng.uniform(*self.coverage) / num_obj
        for _ in range(num_obj):
            kind_id = int(rng.integers(self.num_kinds))
            obj = self._object_mask(rng, self.kinds[kind_id], share, xs, ys)
            img[obj] = self._object_texture(rng, xs, ys)[obj]
            mask[obj] = 1 if self.label_mode == 'binary' else kind_id + 1

        img += rng.normal(0.0, 0.015, img.shape).astype(np.float32)
        img = np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return img, mask

    @staticmethod
    def _colour(rng: np.random.Generator) -> np.ndarray:
        """A random RGB colour in [0, 1]; object and background colours use
        this same distribution on purpose."""
        return rng.uniform(0.05, 0.95, 3).astype(np.float32)

    def _background(self, rng: np.random.Generator, xs: np.ndarray,
                    ys: np.ndarray) -> np.ndarray:
        """Two-colour linear gradient plus low-frequency luminance waves."""
        size = self.img_size
        c0, c1 = self._colour(rng), self._colour(rng)
        ang = rng.uniform(0, 2 * np.pi)
        g = (xs * np.cos(ang) + ys * np.sin(ang)) / size
        g = (g - g.min()) / max(float(g.max() - g.min()), 1e-6)
        img = c0 * (1 - g[..., None]) + c1 * g[..., None]
        tex = np.zeros_like(xs)
        for _ in range(3):
            # 0.5-2.5 cycles per image: visible texture, no object-like edges.
            freq = rng.uniform(0.5, 2.5) * 2 * np.pi / size
            a = rng.uniform(0, np.pi)
            tex += np.sin(freq * (xs * np.cos(a) + ys * np.sin(a)) +
                          rng.uniform(0, 2 * np.pi))
        img += (rng.uniform(*self.background_waves) * tex)[..., None]
        return img.astype(np.float32)

    def _object_mask(self, rng: np.random.Generator, kind: str,
                     coverage: float, xs: np.ndarray,
                     ys: np.ndarray) -> np.ndarray:
        """Place one shape covering about ``coverage`` of the image."""
        size = self.img_size
        aspect = rng.uniform(0.6, 1.0)  # minor/major axis ratio
        # Scale so that the area is about coverage * size^2, capped so the
        # bounding circle fits in the image.
        radius = np.sqrt(coverage * size * size / (_UNIT_AREAS[kind] * aspect))
        radius = min(radius, 0.48 * size)
        cx, cy = (rng.uniform(radius, size - radius) for _ in range(2))
        theta = rng.uniform(0, 2 * np.pi)
        dx, dy = xs - cx, ys - cy
        u = (dx * np.cos(theta) + dy * np.sin(theta)) / radius
        v = (-dx * np.sin(theta) + dy * np.cos(theta)) / (radius * aspect)
        return _shape_mask(kind, u, v)

    def _object_texture(self, rng: np.random.Generator, xs: np.ndarray,
                        ys: np.ndarray) -> np.ndarray:
        """Full-image stripe or checker texture in the object's colours."""
        size = self.img_size
        c0 = self._colour(rng)
        # Second colour partway to another random colour: contrast varies.
        c1 = c0 + rng.uniform(0.35, 0.9) * (self._colour(rng) - c0)
        # Periods of 3 px and up stay visible at 32x32.
        period = rng.uniform(3.0, max(4.0, size / 6))
        freq = 2 * np.pi / period
        a = rng.uniform(0, np.pi)
        s = xs * np.cos(a) + ys * np.sin(a)
        # The coin is drawn whatever ``textures`` holds, so that every other
        # draw (and thus the default data) is the same for every setting.
        kind = TEXTURES[int(rng.random() >= 0.5)]
        if kind not in self.textures:
            kind = self.textures[0]
        if kind == 'stripe':
            wave = self._stripe(freq, s, rng.uniform(0, 2 * np.pi))
        else:
            t = -xs * np.sin(a) + ys * np.cos(a)
            wave = self._checker(freq, s, t, rng.uniform(0, np.pi))
        # Sharpness from soft sine to near square wave.
        t = np.clip(0.5 + rng.uniform(0.5, 3.0) * wave, 0.0, 1.0)[..., None]
        return (c0 * (1 - t) + c1 * t).astype(np.float32)

    @staticmethod
    def _stripe(freq: float, s: np.ndarray, phase: float) -> np.ndarray:
        """Parallel stripes across the coordinate ``s``."""
        return np.sin(freq * s + phase)

    @staticmethod
    def _checker(freq: float, s: np.ndarray, t: np.ndarray,
                 phase: float) -> np.ndarray:
        """A checker: the product of stripes along ``s`` and ``t``."""
        return np.sin(freq * s) * np.sin(freq * t + phase)
