# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Profile folded (one B*K batch) against looped (K passes) decoding: the
operator tables behind the folded-decoding rows of docs/benchmarks.md.

    OMP_NUM_THREADS=1 python tools/analysis_tools/profile_folded_decoding.py \\
        [CONFIG] [--k 4] [--batch 8] [--repeats 5]
"""
import argparse
import os.path as osp
import sys

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from benchmark_models import looped_regions  # noqa: E402

DEFAULT_CONFIG = ('configs/factdiff/'
                  'factdiff_unet-tiny-k2_1xb32-2k_synthetic-32x32.py')


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config', nargs='?', default=DEFAULT_CONFIG)
    p.add_argument('--k', type=int, default=4, help='regions to decode')
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--rows', type=int, default=8, help='operators shown')
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmseg.registry import MODELS

    import mmfactdiff  # noqa: F401  (registers the modules)
    torch.set_num_threads(args.threads)
    init_default_scope('mmseg')
    cfg = Config.fromfile(args.config)
    model = MODELS.build(cfg.model).eval()
    size = int(cfg.model.test_cfg.get('img_size', 32))
    x = torch.randn(args.batch, 3, size, size)
    runs = dict(
        folded=lambda: model.decoder.forward_regions(feats, masks),
        loop=lambda: looped_regions(model.decoder, feats, masks))
    with torch.no_grad():
        t = torch.full((args.batch, ),
                       model.scheduler.num_train_timesteps // 2)
        feats = model.extract_feat(x, t)
        masks = torch.randn(args.batch, args.k, size, size).softmax(1)
        for fn in runs.values():  # warm-up
            fn()
        for name, fn in runs.items():
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                for _ in range(args.repeats):
                    fn()
            print(f'== {name}: K={args.k}, batch {args.batch}, '
                  f'{args.repeats} calls')
            print(prof.key_averages().table(
                sort_by='self_cpu_time_total',
                row_limit=args.rows,
                max_name_column_width=40))


if __name__ == '__main__':
    main()
