# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Segment any image (or a folder of images) into the model's K regions.

    python tools/demo/segment_demo.py CONFIG CHECKPOINT INPUT --out-dir DIR
        [--t 30] [--num-draws 1] [--noise-seed 0] [--device cpu]
        [--opacity 0.5] [--img-size N] [--save-masks] [--with-labels]
        [--cfg-options k=v ...]

INPUT is an image file or a folder, searched recursively for common image
suffixes. For each image ``NAME`` (the folder layout under INPUT is kept)
it writes:

- ``DIR/NAME_overlay.png``: the image with its regions coloured (mmseg's
  ``SegLocalVisualizer``);
- ``DIR/NAME_regions.png``: the region ids as a palette PNG (pixel value =
  region id, colours = the model's ``dataset_meta['palette']``);
- with ``--save-masks``: ``DIR/NAME_masks.npy``, the soft masks (K, H, W)
  float32.

All outputs have the size of the input image: it is resized to the model
resolution for the forward pass (``--img-size``, default: the config's
inference ``test_pipeline``), and the model resizes its masks back. It
runs mmseg's ``init_model`` + ``inference_model`` (docs/inference.md).
Every output file is written under a temporary name and moved into place,
so a file that exists is complete; re-running the same command skips the
images whose outputs all exist (``--overwrite`` redoes them), so a stopped
run over a large folder resumes where it stopped. Images are read and
segmented one at a time: memory does not grow with the folder.

Images that cannot be read or segmented (zero-byte, truncated or
non-image files, single-pixel images) are reported with their path and
reason and skipped; the outputs of the other images are written as they
come, a summary counts the failures, and the exit status is 1 if any
failed. Greyscale, palette, RGBA, 16-bit and CMYK files are converted to
8-bit colour as mmseg's loaders do; any size is resized to the model's
resolution and the regions are resized back.
"""
import argparse
import os
import os.path as osp
import sys
import time
from typing import List, Optional, Sequence, Tuple

import numpy as np

IMG_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp',
                '.ppm', '.pgm', '.pbm')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command line of the demo."""
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(
        description='Segment images into K regions with a factorized '
        'diffusion model (one forward pass per image)')
    p.add_argument('config', help='model config file')
    p.add_argument('checkpoint', help='checkpoint file (.pth)')
    p.add_argument('input', help='an image file or a folder (recursive)')
    from mmfactdiff.utils import add_trust_checkpoint_argument
    add_trust_checkpoint_argument(p)
    p.add_argument('--out-dir', required=True, help='output folder')
    p.add_argument(
        '--overwrite',
        action='store_true',
        help='segment every image again; by default images whose outputs '
        'all exist (written atomically by an earlier run) are skipped, so '
        'a stopped run resumes where it stopped')
    p.add_argument(
        '--t',
        type=int,
        default=None,
        help='noise level of the read-out (overrides test_cfg.t; the '
        'shipped configs use 30)')
    p.add_argument(
        '--num-draws',
        type=int,
        default=None,
        help='average the soft masks over this many noise draws '
        '(overrides test_cfg.num_noise_draws; default 1)')
    p.add_argument(
        '--noise-seed',
        type=int,
        default=None,
        help='seed of the noise (overrides test_cfg.noise_seed; default 0)')
    p.add_argument(
        '--device',
        default=None,
        help='e.g. cpu or cuda:0 (default: cuda:0 when available)')
    p.add_argument(
        '--opacity',
        type=float,
        default=0.5,
        help='opacity of the region colours in the overlay, in (0, 1]')
    p.add_argument(
        '--img-size',
        type=int,
        default=None,
        help='side the images are resized to for the forward pass '
        '(default: the resolution of the config)')
    p.add_argument(
        '--save-masks',
        action='store_true',
        help='also write the soft masks as NAME_masks.npy (K, H, W)')
    p.add_argument(
        '--with-labels',
        action='store_true',
        help='write the region names on the overlay')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.test_cfg.region_names='
        '"[sky,ground]"')
    args = p.parse_args(argv)
    if not 0 < args.opacity <= 1:
        p.error(f'--opacity must be in (0, 1], got {args.opacity}')
    if args.num_draws is not None and args.num_draws < 1:
        p.error(f'--num-draws must be >= 1, got {args.num_draws}')
    if args.img_size is not None and args.img_size < 1:
        p.error(f'--img-size must be positive, got {args.img_size}')
    return args


def collect_images(path: str) -> List[Tuple[str, str]]:
    """Image files under ``path`` and the output name of each.

    Args:
        path (str): An image file (taken whatever its suffix) or a folder,
            searched recursively for :data:`IMG_SUFFIXES` (any case).

    Returns:
        list[tuple[str, str]]: ``(file, name)`` pairs, sorted; ``name`` is
        the path relative to the folder without suffix (files with the same
        stem keep their suffix in the name, so no output is overwritten).
    """
    if osp.isfile(path):
        return [(path, osp.splitext(osp.basename(path))[0])]
    if not osp.isdir(path):
        raise FileNotFoundError(f'input {path!r} is neither a file nor a '
                                'folder')
    files = []
    for root, dirs, names in os.walk(path):
        dirs.sort()
        for name in sorted(names):
            if name.lower().endswith(IMG_SUFFIXES):
                files.append(osp.join(root, name))
    stems = [osp.splitext(osp.relpath(f, path))[0] for f in files]
    out = []
    for f, stem in zip(files, stems):
        if stems.count(stem) > 1:  # a.png and a.jpg side by side
            stem = f'{stem}_{osp.splitext(f)[1][1:].lower()}'
        out.append((f, stem))
    return out


def model_img_size(cfg, model) -> Optional[Tuple[int, int]]:
    """The (w, h) the config's inference pipeline resizes to, else the
    model's ``test_cfg.img_size``; None when neither is known."""
    for t in cfg.get('test_pipeline', None) or []:
        if t.get('type') == 'Resize' and t.get('scale') is not None:
            scale = t['scale']
            return (scale, scale) if isinstance(scale, int) else tuple(scale)
    size = model.test_cfg.get('img_size', None)
    if size is None:
        return None
    return (size, size) if isinstance(size, int) else (size[1], size[0])


def array_pipeline(scale: Optional[Tuple[int, int]]) -> List[dict]:
    """The pipeline ``inference_model`` runs on an image array: keep the
    original size in the metainfo, resize to the model's ``scale``."""
    pipeline = [dict(type='LoadImageFromNDArray')]
    if scale is not None:
        pipeline.append(dict(type='Resize', scale=scale, keep_ratio=False))
    pipeline.append(dict(type='PackSegInputs'))
    return pipeline


def read_image(path: str) -> np.ndarray:
    """Read an image as uint8 BGR (H, W, 3), like mmseg's loaders.

    Raises:
        ValueError: Naming the file when it cannot be decoded.
    """
    import mmcv
    if osp.isfile(path) and osp.getsize(path) == 0:
        raise ValueError(f'cannot read image {path}: the file is empty')
    try:
        img = mmcv.imread(path, flag='color', channel_order='bgr')
    except Exception as e:  # missing permissions, truncated files...
        raise ValueError(f'cannot read image {path}: {e}') from e
    if img is None or img.size == 0:
        raise ValueError(f'cannot decode image {path} (not an image, or '
                         'an unsupported format)')
    return img


def save_regions(ids: np.ndarray, palette: Sequence[Sequence[int]],
                 path: str) -> None:
    """Region ids (H, W) as a palette PNG: pixel values are the ids."""
    from PIL import Image
    if len(palette) > 256:
        raise ValueError('a palette PNG holds at most 256 regions, the '
                         f'model has {len(palette)}')
    h, w = ids.shape
    img = Image.frombytes('P', (w, h), ids.astype(np.uint8).tobytes())
    flat = [int(c) for colour in palette for c in colour]
    img.putpalette(flat + [0] * (768 - len(flat)))
    img.save(path)


def segment_one(model, visualizer, img: np.ndarray, path: str, out: str,
                args: argparse.Namespace) -> None:
    """Segment one decoded image and write its outputs under ``out``.

    Raises:
        ValueError: For an image of a single pixel (it has no regions to
            find); the caller names the file.
    """
    import mmcv
    from mmseg.apis import inference_model
    if img.shape[0] * img.shape[1] < 2:
        raise ValueError('a single-pixel image: nothing to segment')
    result = inference_model(model, img)
    os.makedirs(osp.dirname(out) or '.', exist_ok=True)
    # every file is written under a temporary name and moved into place
    # (atomic), so an output that exists is complete: a re-run skips it
    ids = result.pred_sem_seg.data[0].cpu().numpy()
    save_regions(ids, model.dataset_meta['palette'], f'{out}_regions.tmp.png')
    visualizer.add_datasample(
        osp.basename(out),
        mmcv.bgr2rgb(img),
        result,
        draw_gt=False,
        draw_pred=True,
        show=False,
        with_labels=args.with_labels,
        out_file=f'{out}_overlay.tmp.png')
    if args.save_masks:
        np.save(f'{out}_masks.tmp.npy',
                result.seg_logits.data.float().cpu().numpy())
    for final in output_files(out, args.save_masks):
        stem, ext = osp.splitext(final)
        os.replace(f'{stem}.tmp{ext}', final)


def output_files(out: str, save_masks: bool) -> List[str]:
    """The files the demo writes for the image named ``out``."""
    files = [f'{out}_overlay.png', f'{out}_regions.png']
    return files + ([f'{out}_masks.npy'] if save_masks else [])


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the demo.

    Args:
        argv (Sequence[str], optional): Arguments; defaults to
            ``sys.argv[1:]``.

    Returns:
        int: 0 when every image was segmented, 1 when some failed.
    """
    args = parse_args(argv)
    from mmfactdiff.utils import ensure_writable
    ensure_writable(args.out_dir, '--out-dir', folder=True)
    import torch
    from mmengine.utils import ProgressBar
    from mmseg.apis import init_model
    from mmseg.visualization import SegLocalVisualizer

    import mmfactdiff  # noqa: F401  (registers the modules)

    images = collect_images(args.input)
    if not images:
        print(
            f'no images ({", ".join(IMG_SUFFIXES)}) under {args.input}',
            file=sys.stderr)
        return 1
    device = args.device or ('cuda:0' if torch.cuda.is_available() else 'cpu')
    # init_model loads checkpoint['state_dict']: for checkpoints written by
    # tools/train.py with EMAHook that is the EMA weights
    from mmfactdiff.utils import trust_checkpoints
    with trust_checkpoints(args.trust_checkpoint):
        model = init_model(args.config, args.checkpoint, device,
                           args.cfg_options)
    for key, value in (('t', args.t), ('num_noise_draws', args.num_draws),
                       ('noise_seed', args.noise_seed)):
        if value is not None:
            model.test_cfg[key] = value
    num_t = len(model.scheduler)
    if not 0 <= int(model.test_cfg.t) < num_t:
        raise ValueError(f'--t must be in [0, {num_t}), got '
                         f'{model.test_cfg.t}')
    scale = ((args.img_size, args.img_size) if args.img_size is not None else
             model_img_size(model.cfg, model))
    # the U-Net's skips only line up on multiples of its largest stride
    stride = max(getattr(model.backbone, 'out_strides', None) or [1])
    if scale is not None and any(s % stride for s in scale):
        raise ValueError(f'--img-size must be a multiple of {stride} (the '
                         f'largest stride of the encoder), got {scale}')
    # inference_model builds its pipeline from model.cfg.test_pipeline; the
    # demo decodes the files itself, to name the ones that fail
    model.cfg.test_pipeline = array_pipeline(scale)
    meta = model.dataset_meta
    visualizer = SegLocalVisualizer(
        name=f'segment_demo_{os.getpid()}_{time.time_ns()}',
        alpha=args.opacity)
    visualizer.set_dataset_meta(meta['classes'], meta['palette'])

    failed, done = [], 0
    bar = ProgressBar(len(images))
    for path, name in images:
        out = osp.join(args.out_dir, name)
        if not args.overwrite and all(
                osp.isfile(f) for f in output_files(out, args.save_masks)):
            done += 1  # segmented by an earlier run of the same command
            bar.update()
            continue
        try:
            img = read_image(path)
        except ValueError as e:
            failed.append((path, str(e)))
            print(f'\nskipped: {e}', file=sys.stderr)
            bar.update()
            continue
        try:
            segment_one(model, visualizer, img, path, out, args)
        except Exception as e:  # noqa: B902  one bad image ends no run
            failed.append((path, f'{path}: {type(e).__name__}: {e}'))
            print(
                f'\nfailed: {path}: {type(e).__name__}: {e}', file=sys.stderr)
        bar.update()
    print(f'\nsegmented {len(images) - len(failed) - done}/{len(images)} '
          f'images into {len(meta["classes"])} regions (t={model.test_cfg.t},'
          f' {model.test_cfg.num_noise_draws} noise draw(s), seed '
          f'{model.test_cfg.noise_seed}); outputs in {args.out_dir}' +
          (f'; {done} already done by an earlier run (--overwrite redoes '
           'them)' if done else ''))
    if failed:
        print(f'{len(failed)} image(s) failed:', file=sys.stderr)
        for _, msg in failed:
            print(f'  {msg}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
