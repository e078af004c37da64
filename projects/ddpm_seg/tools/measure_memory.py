# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Peak RAM and time of DDPM-seg's training with streamed features.

Builds the model of CONFIG (default: the published ADM-256 setting,
``projects/ddpm_seg/configs/_base_/models/ddpm-seg_adm-256.py``:
guided-diffusion's 256x256 U-Net, blocks 5, 6, 7, 8, 12 at t = 50, 150, 250,
8448 channels) through mmseg's MODELS registry, and runs ``model.train_step``
(the standard mmengine model step: data preprocessor, feature extraction, pixel
MLP ensemble loss, Adam update) over ``--num-images`` random images with random
labels, ``--batch-size`` at a time: the features of a batch exist only while
that batch is processed. It reports the process's peak resident memory
(``getrusage``'s ``ru_maxrss``, GB = 1e9 bytes) and the wall time of the loop
(feature extraction plus classifier training), and writes them as rows of
``--out`` (a JSON list; rows of the same setting are replaced).

The U-Net's weights are RANDOM unless ``--cfg-options
model.backbone.checkpoint=PATH`` names a guided-diffusion ``.pt``: the
memory and time do not depend on the weights' values, the features'
quality does (this is a resource measurement, not a result).

The original code (ddpm-segmentation) extracts the features of every
training image into one array before training the classifiers; its README
(https://github.com/yandex-research/ddpm-segmentation, commit 9a13776)
quotes about 210 GB of RAM for that (50 images at 256x256), and users with
64-65 GB report that they could not train (its issue tracker).

    python projects/ddpm_seg/tools/measure_memory.py \\
        --num-images 50 --batch-size 1 \\
        --out work_dirs/ddpm_seg/memory.json
"""
import argparse
import math
import os
import os.path as osp
import resource
import sys
import time

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.normpath(osp.join(HERE, '..', '..', '..'))
# result rows are merged by the one implementation the study's tools use

DEFAULT_CONFIG = osp.join(REPO, 'projects', 'ddpm_seg', 'configs', '_base_',
                          'models', 'ddpm-seg_adm-256.py')
#: what the original needs for 50 images at 256x256 (ddpm-segmentation's
#: README)
ORIGINAL_GB = 210
ORIGINAL_SOURCE = ('README of github.com/yandex-research/ddpm-segmentation, '
                   'commit 9a13776')
METHOD = 'DDPM-seg (streamed features)'
DEFAULT_IMPORTS = ['mmfactdiff', 'projects.ddpm_seg.ddpm_seg']


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument(
        'config',
        nargs='?',
        default=DEFAULT_CONFIG,
        help='config with a DDPM-seg model (default: the ADM-256 base)')
    p.add_argument(
        '--num-images',
        type=int,
        default=50,
        help='labelled images to stream (default 50, the original\'s '
        'largest training set)')
    p.add_argument('--batch-size', type=int, default=1, help='images a step')
    p.add_argument(
        '--img-size',
        type=int,
        default=256,
        help='image side; sets the data preprocessor size and '
        'backbone.img_size (default 256)')
    p.add_argument(
        '--epochs',
        type=int,
        default=1,
        help='passes over the images; each pass extracts the features '
        'again (default 1)')
    p.add_argument('--seed', type=int, default=0, help='data and init seed')
    p.add_argument(
        '--device', default='cpu', help='torch device (default cpu)')
    p.add_argument(
        '--out', required=True, help='JSON list of rows to write or update')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        default=None,
        help='key=value overrides of the config (after --img-size)')
    args = p.parse_args(argv)
    for name in ('num_images', 'batch_size', 'img_size', 'epochs'):
        if getattr(args, name) < 1:
            p.error(f'--{name.replace("_", "-")} must be >= 1')
    return args


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far, in GB (1e9 bytes):
    ``getrusage``'s ``ru_maxrss`` (the kernel's high-water mark; psutil
    reports no peak on Linux)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux, bytes on macOS
    return rss / 1e9 if sys.platform == 'darwin' else rss * 1024 / 1e9


def device_name(device: str) -> str:
    import torch
    if device.startswith('cuda'):
        return f'{device}: {torch.cuda.get_device_name(device)}'
    threads = torch.get_num_threads()
    return f'cpu: {os.cpu_count()} cores, {threads} thread(s)'


def build_config(args: argparse.Namespace):
    """The config with the image size and the overrides applied."""
    from mmengine.config import Config, DictAction
    cfg = Config.fromfile(args.config)
    size = args.img_size
    cfg.merge_from_dict({
        'model.data_preprocessor.size': (size, size),
        'model.backbone.img_size': size,
        'model.backbone.allow_random_weights': True,
    })
    if args.cfg_options:
        parser = argparse.ArgumentParser()
        parser.add_argument('--o', nargs='+', action=DictAction)
        cfg.merge_from_dict(parser.parse_args(['--o', *args.cfg_options]).o)
    if not cfg.get('custom_imports'):
        cfg.custom_imports = dict(
            imports=DEFAULT_IMPORTS, allow_failed_imports=False)
    return cfg


def random_batch(n: int, size: int, num_classes: int, gen):
    """``n`` random uint8 images with random rectangle labels, in the
    format a dataloader gives ``train_step``."""
    import torch
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    inputs, samples = [], []
    for _ in range(n):
        inputs.append(
            torch.randint(
                0, 256, (3, size, size), dtype=torch.uint8, generator=gen))
        label = torch.zeros(1, size, size, dtype=torch.long)
        for k in range(1, num_classes):
            y0, x0 = torch.randint(0, size // 2 + 1, (2, ), generator=gen)
            label[:, y0:y0 + size // 2, x0:x0 + size // 2] = k
        sample = SegDataSample()
        sample.set_metainfo(
            dict(img_shape=(size, size), ori_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def measure(args: argparse.Namespace) -> dict:
    """Build the model, stream the images through ``train_step``."""
    import torch
    from mmengine.optim import OptimWrapper
    from mmengine.registry import init_default_scope
    from mmengine.utils import import_modules_from_strings
    from mmseg.registry import MODELS

    cfg = build_config(args)
    import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    torch.manual_seed(args.seed)
    start = time.perf_counter()
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(args.device)
    model.train()
    build_seconds = time.perf_counter() - start
    rss_built = peak_rss_gb()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optim = OptimWrapper(torch.optim.Adam(trainable, lr=1e-3))
    gen = torch.Generator().manual_seed(args.seed)
    num_classes = int(cfg.model.decode_head.num_classes)
    steps = args.epochs * math.ceil(args.num_images / args.batch_size)
    if args.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats(args.device)
    start = time.perf_counter()
    step_seconds, log = [], {}
    for _ in range(args.epochs):
        for first in range(0, args.num_images, args.batch_size):
            n = min(args.batch_size, args.num_images - first)
            t0 = time.perf_counter()
            log = model.train_step(
                random_batch(n, args.img_size, num_classes, gen), optim)
            step_seconds.append(time.perf_counter() - t0)
            print(
                f'step {len(step_seconds)}/{steps}: {n} image(s), '
                f'{step_seconds[-1]:.1f} s, loss '
                f'{log["loss"].item():.4f}, peak RSS '
                f'{peak_rss_gb():.2f} GB',
                flush=True)
    seconds = time.perf_counter() - start
    result = dict(
        peak_rss_GB=peak_rss_gb(),
        seconds=seconds,
        build_seconds=build_seconds,
        rss_after_build_GB=rss_built,
        iterations=steps,
        feature_channels=int(model.backbone.out_channels),
        loss=log['loss'].item(),
        step_seconds=step_seconds)
    if args.device.startswith('cuda'):
        result['peak_gpu_GB'] = torch.cuda.max_memory_allocated(
            args.device) / 1e9
    return result


def main(argv=None) -> list:
    args = parse_args(argv)
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    # the output folder exists before the (long) work starts
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    result = measure(args)
    config = osp.relpath(osp.abspath(args.config), REPO)
    base = dict(
        dataset=f'random {args.img_size}x{args.img_size}',
        method=METHOD,
        config=config,
        cfg_options=args.cfg_options,
        seed=args.seed,
        iterations=result['iterations'],
        labels_used=args.num_images,
        num_images=args.num_images,
        batch_size=args.batch_size,
        epochs=args.epochs,
        img_size=args.img_size,
        feature_channels=result['feature_channels'],
        weights='random (resource measurement)',
        device=device_name(args.device))
    metrics = ['peak_rss_GB', 'seconds'
               ] + (['peak_gpu_GB'] if 'peak_gpu_GB' in result else [])
    rows = [dict(base, metric=m, value=round(result[m], 3)) for m in metrics]
    from mmfactdiff.utils import update_result_rows
    total = update_result_rows(args.out, rows)
    per_image = result['seconds'] / (args.num_images * args.epochs)
    print(f'{args.num_images} image(s) at {args.img_size}x{args.img_size}, '
          f'batch {args.batch_size}, {result["feature_channels"]} feature '
          f'channels, {result["iterations"]} step(s) on {base["device"]}: '
          f'{result["seconds"]:.1f} s ({per_image:.1f} s an image; model '
          f'built in {result["build_seconds"]:.1f} s), peak RSS '
          f'{result["peak_rss_GB"]:.2f} GB ({result["rss_after_build_GB"]:.2f}'
          ' GB after building the model)')
    print(f'the original materialises the features of all images: about '
          f'{ORIGINAL_GB} GB for 50 images at 256x256 ({ORIGINAL_SOURCE}); '
          f'streamed: {result["peak_rss_GB"]:.2f} GB peak for '
          f'{args.num_images} image(s) at {args.img_size}x{args.img_size}, '
          f'{result["peak_rss_GB"] / ORIGINAL_GB:.1%} of it')
    print(f'{len(rows)} rows -> {args.out} ({total} rows)')
    return rows


if __name__ == '__main__':
    main()
