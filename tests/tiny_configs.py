# Copyright (c) mmfactdiff contributors. All rights reserved.
"""A runnable tiny version of the main config, for tool and engine tests."""
import glob
import json
import os.path as osp
import uuid

from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.runner import Runner

MAIN_CONFIG = osp.join(
    REPO_ROOT,
    'configs/factdiff/factdiff_unet-tiny-k2_1xb32-2k_synthetic-32x32.py')

TINY_OPTIONS = {
    'model.backbone.base_channels': 8,
    'model.backbone.channel_mults': (1, 2),
    'model.backbone.num_groups': 4,
    'model.backbone.num_heads': 2,
    'model.trunk.channels': 8,
    'model.trunk.channel_mults': (1, 2),
    'model.trunk.num_groups': 4,
    'model.trunk.num_heads': 2,
    'model.scheduler.num_train_timesteps': 100,
    'model.test_cfg.t': 5,
    'train_dataloader.batch_size': 8,
    'train_dataloader.dataset.num_samples': 64,
    'val_dataloader.dataset.num_samples': 8,
    'val_dataloader.batch_size': 8,
    'test_dataloader.dataset.num_samples': 8,
    'test_dataloader.batch_size': 8,
}


def tiny_config(work_dir: str, max_iters: int = 8, **options) -> Config:
    """The main config shrunk to run in seconds on a CPU."""
    cfg = Config.fromfile(MAIN_CONFIG)
    opts = dict(TINY_OPTIONS)
    opts.update({
        'train_cfg.max_iters': max_iters,
        'train_cfg.val_interval': max_iters,
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': max_iters,
        'work_dir': work_dir,
    })
    opts.update(options)
    cfg.merge_from_dict(opts)
    # Runners built in one process share a visualizer by name: give each
    # its own, so logs land in their own work dir.
    cfg.visualizer.name = f'visualizer-{uuid.uuid4().hex[:8]}'
    # sample grids are tested separately; keep them fast here
    for hook in cfg.custom_hooks:
        if hook['type'] == 'SampleVisualizationHook':
            hook.update(interval=max_iters, num_samples=2, num_steps=2)
    return cfg


def train_briefly(config: str, work_dir: str, options: dict) -> str:
    """Train ``config`` with ``options`` merged (a few iterations of small
    batches) in ``work_dir`` through the standard Runner; returns
    ``work_dir``."""
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(dict(options, work_dir=work_dir))
    # Runners built in one process share a visualizer by name
    cfg.visualizer.name = f'visualizer-{uuid.uuid4().hex[:8]}'
    Runner.from_cfg(cfg).train()
    return work_dir


def dump(cfg: Config, path: str) -> str:
    cfg.dump(path)
    return path


def scalar_records(work_dir: str) -> list:
    """Every record the runs in ``work_dir`` logged to
    ``<time>/vis_data/scalars.json``, runs in time order."""
    records = []
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            records += [json.loads(line) for line in f]
    return records
