# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Does the demo's memory grow with the folder? Peak RSS over N vs N/10.

Generates ``--num-images`` random photos (sizes 24-120 px, a tenth of them
in a sub-folder) and runs ``tools/demo/segment_demo.py`` twice, each in a
fresh process: over the first tenth of them and over all of them. The peak
resident memory of each process (``ru_maxrss``) and their ratio are
printed and written to ``--out``: a ratio near 1 means the demo streams
(memory bounded by one image, not by the folder).

    python tools/analysis_tools/demo_memory.py --num-images 2000 \\
        --out work_dirs/demo_memory.json

Without ``--checkpoint`` the model of ``--config`` is saved with its random
initial weights: memory does not depend on what the weights are.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'tools', 'demo', 'segment_demo.py')
MAIN_CONFIG = ('configs/factdiff/'
               'factdiff_unet-probe-k2_1xb32-1k_synthetic-32x32.py')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--config', default=MAIN_CONFIG, help='model config')
    p.add_argument(
        '--checkpoint',
        default=None,
        help='weights (default: the config\'s random initial weights)')
    p.add_argument(
        '--num-images',
        type=int,
        default=2000,
        help='images of the large run (the small run gets a tenth)')
    p.add_argument('--out', default=None, help='JSON file for the result')
    p.add_argument('--child', nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child is None and args.num_images < 10:
        p.error(f'--num-images must be >= 10, got {args.num_images}')
    return args


def run_child(demo_argv: List[str]) -> None:
    """In the measured process: run the demo, print its peak RSS."""
    import importlib.util
    import resource
    spec = importlib.util.spec_from_file_location('segment_demo', DEMO)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    rc = demo.main(demo_argv)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(dict(rc=rc, peak_rss_bytes=peak_kb * 1024)))


def write_images(folder: str, num: int, seed: int = 0) -> None:
    """``num`` random photos: smooth blobs on noise, varied sizes."""
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(folder, 'sub'), exist_ok=True)
    for i in range(num):
        h, w = (int(v) for v in rng.integers(24, 121, 2))
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        sub = 'sub' if i % 10 == 9 else ''
        Image.fromarray(img).save(osp.join(folder, sub, f'{i:05d}.png'))


def measure(config: str, checkpoint: str, images: str, out_dir: str) -> Dict:
    cmd = [
        sys.executable,
        osp.abspath(__file__), '--child', config, checkpoint, images,
        '--out-dir', out_dir, '--device', 'cpu'
    ]
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f'the demo failed ({proc.returncode}):\n'
                           f'{proc.stderr[-3000:]}')
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result['rc'] != 0:
        raise RuntimeError(f'the demo reported failures:\n'
                           f'{proc.stderr[-3000:]}')
    result['seconds'] = round(time.perf_counter() - start, 1)
    return result


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    if args.child is not None:
        run_child(args.child)
        return {}
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    import mmfactdiff  # noqa: F401  (registers the modules)
    from mmfactdiff.utils import dump_json_atomic, ensure_writable
    if args.out:
        ensure_writable(args.out, '--out')
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = args.checkpoint
        if checkpoint is None:
            cfg = Config.fromfile(args.config)
            init_default_scope(cfg.get('default_scope', 'mmseg'))
            model = MODELS.build(cfg.model)
            checkpoint = osp.join(tmp, 'random_init.pth')
            torch.save(
                dict(state_dict=model.state_dict(), meta={}), checkpoint)
        small, large = args.num_images // 10, args.num_images
        write_images(osp.join(tmp, 'small'), small)
        write_images(osp.join(tmp, 'large'), large)
        rows = [
            dict(
                images=n,
                **measure(args.config, checkpoint, osp.join(tmp, name),
                          osp.join(tmp, f'out_{name}')))
            for n, name in ((small, 'small'), (large, 'large'))
        ]
    result = dict(
        command='python tools/analysis_tools/demo_memory.py '
        f'--num-images {args.num_images}',
        config=args.config,
        rows=rows,
        peak_rss_ratio=round(
            rows[1]['peak_rss_bytes'] / rows[0]['peak_rss_bytes'], 3))
    for r in rows:
        print(f'{r["images"]:6d} images: peak RSS '
              f'{r["peak_rss_bytes"] / 2**20:.0f} MiB, {r["seconds"]} s')
    print(f'peak RSS ratio ({large} / {small} images): '
          f'{result["peak_rss_ratio"]}')
    if args.out:
        dump_json_atomic(result, args.out)
    return result


if __name__ == '__main__':
    main()
