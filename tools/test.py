# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Test (evaluate) a checkpoint, with mmsegmentation's command-line flags.

    python tools/test.py CONFIG [CHECKPOINT] [--work-dir DIR] [--out DIR]
        [--show] [--show-dir DIR] [--wait-time S] [--cfg-options k=v ...]
        [--launcher none|pytorch|slurm|mpi] [--tta] [--resources]
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.runner import Runner


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint file (omit it only for models without weights, '
        'such as the label-free baselines of projects/emergence_study)')
    from mmfactdiff.utils import add_trust_checkpoint_argument
    add_trust_checkpoint_argument(parser)
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--out',
        type=str,
        help='the directory to save the predicted segmentation maps')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images (overlays) will be saved')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
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
    parser.add_argument(
        '--tta', action='store_true', help='test time augmentation')
    parser.add_argument(
        '--resources',
        action='store_true',
        help='also log seconds per image and peak memory with the metrics '
        '(TestResourceHook)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def trigger_visualization_hook(cfg: Config,
                               args: argparse.Namespace) -> Config:
    default_hooks = cfg.default_hooks
    if 'visualization' not in default_hooks:
        raise RuntimeError(
            'VisualizationHook must be included in default_hooks: refer to '
            "usage `visualization=dict(type='SegVisualizationHook')`")
    hook = default_hooks['visualization']
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        visualizer = cfg.visualizer
        visualizer['save_dir'] = args.show_dir
    return cfg


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
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint

    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        # mmseg's IoUMetric in format-only mode writes one PNG of region ids
        # per image; it is added beside the config's own metrics.
        writer = dict(type='IoUMetric', format_only=True, output_dir=args.out)
        evaluators = cfg.test_evaluator
        if isinstance(evaluators, dict):
            evaluators = [evaluators]
        cfg.test_evaluator = list(evaluators) + [writer]

    if args.resources:
        cfg.custom_hooks = list(cfg.get('custom_hooks', None)
                                or []) + [dict(type='TestResourceHook')]

    runner = Runner.from_cfg(cfg)
    if args.checkpoint is None and any(True
                                       for _ in runner.model.parameters()):
        raise SystemExit(
            f'{args.config}: this model has weights, give the CHECKPOINT to '
            'test (only weight-free models run without one)')
    from mmfactdiff.utils import trust_checkpoints
    with trust_checkpoints(args.trust_checkpoint):
        runner.test()


if __name__ == '__main__':
    main()
