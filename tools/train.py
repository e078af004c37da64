# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Train a model from a config, with mmsegmentation's command-line flags.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--amp-dtype float16|bfloat16] [--cfg-options k=v ...]
        [--launcher none|pytorch|slurm|mpi]
"""
import argparse
import logging
import os
import os.path as osp
import sys
from typing import Optional

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or, with no value, from the '
        'latest checkpoint in the work dir')
    from mmfactdiff.utils import add_trust_checkpoint_argument
    add_trust_checkpoint_argument(parser)
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic mixed precision training')
    parser.add_argument(
        '--amp-dtype',
        choices=['float16', 'bfloat16'],
        default=None,
        help='autocast dtype of --amp (default: the device default, '
        'float16 on CUDA); bfloat16 keeps float32\'s exponent range')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, key=value pairs')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank (older: --local_rank)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def _setup_cpu_distributed(cfg: Config) -> None:
    """Make ``--launcher pytorch`` work on machines without CUDA.

    mmengine 0.10.7's pytorch launcher calls ``torch.cuda.set_device`` and
    its ``Runner`` wraps the model in DDP with ``device_ids=[LOCAL_RANK]``;
    both fail without CUDA. Here the process group is initialised first
    (gloo; mmengine then skips its own initialisation) and DDP gets no
    device ids. Nothing changes where CUDA is available.
    """
    import torch
    import torch.distributed as dist
    if torch.cuda.is_available():
        return
    dist_cfg = cfg.get('env_cfg', {}).get('dist_cfg', {})
    backend = dist_cfg.get('backend', 'gloo')
    if backend == 'nccl':
        print_log(
            'No CUDA: using the gloo backend instead of nccl.',
            logger='current',
            level=logging.WARNING)
        backend = 'gloo'
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    if 'runner_type' not in cfg and cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel', device_ids=None)


def enable_amp(cfg: Config, dtype: Optional[str] = None) -> None:
    """Switch the config's optimizer wrapper to mixed precision (what
    ``--amp`` does): mmengine's ``AmpOptimWrapper``, or, for bfloat16 on a
    machine without CUDA (where mmengine's wrapper refuses to run), the
    plugin's ``AutocastOptimWrapper`` (bfloat16 autocast on the CPU, no loss
    scaling).

    Args:
        cfg (Config): The training config, changed in place.
        dtype (str, optional): Autocast dtype, ``'float16'`` or
            ``'bfloat16'``; None keeps the device default (float16 on
            CUDA). Defaults to None.
    """
    import torch
    optim_wrapper = cfg.optim_wrapper.type
    if dtype == 'bfloat16' and not torch.cuda.is_available():
        if optim_wrapper not in ('OptimWrapper', 'AutocastOptimWrapper'):
            raise ValueError('--amp is only supported with OptimWrapper, '
                             f'got {optim_wrapper}')
        cfg.optim_wrapper.type = 'AutocastOptimWrapper'
        cfg.optim_wrapper.dtype = dtype
        return
    if optim_wrapper == 'AmpOptimWrapper':
        print_log(
            'AMP training is already enabled in your config.',
            logger='current',
            level=logging.WARNING)
    else:
        if optim_wrapper != 'OptimWrapper':
            raise ValueError('--amp is only supported with OptimWrapper, '
                             f'got {optim_wrapper}')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if dtype is not None:
        cfg.optim_wrapper.dtype = dtype


def main() -> None:
    args = parse_args()
    # project configs import their modules as `projects.<name>.<package>`
    # (mmseg's projects/ convention): the repository root must be importable
    # from wherever the tool runs
    sys.path.append(osp.dirname(osp.dirname(osp.abspath(__file__))))
    import mmfactdiff  # noqa: F401  (registers the modules)

    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # work_dir: command line > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        enable_amp(cfg, args.amp_dtype)
    elif args.amp_dtype is not None:
        raise ValueError('--amp-dtype needs --amp')

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    if args.launcher == 'pytorch':
        _setup_cpu_distributed(cfg)

    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        from mmseg.registry import RUNNERS
        runner = RUNNERS.build(cfg)
    from mmfactdiff.utils import trust_checkpoints
    with trust_checkpoints(args.trust_checkpoint):
        runner.train()


if __name__ == '__main__':
    main()
