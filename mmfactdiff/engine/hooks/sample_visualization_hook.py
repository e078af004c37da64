# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import EMAHook, Hook

from mmfactdiff.registry import HOOKS
from mmfactdiff.visualization import make_grid, masks_to_ids, to_uint8_images
from .hook_utils import unwrap_model


@HOOKS.register_module()
class SampleVisualizationHook(Hook):
    """Draw generated samples and their masks while training.

    Every ``interval`` iterations (and after training) it generates
    ``num_samples`` images with a fixed seed, using the EMA weights when an
    ``EMAHook`` is present, and sends a grid (each image beside its coloured
    mask) to the runner's visualizer: every configured backend receives it
    (``LocalVisBackend`` writes ``vis_data/vis_image/samples_<iter>.png``,
    ``TensorboardVisBackend`` an image summary). Only rank 0 draws.

    Args:
        interval (int): Iterations between grids. Defaults to 500.
        num_samples (int): Images per grid. Defaults to 16.
        num_steps (int): DDIM steps (fast sampling). Defaults to 50.
        seed (int): Sampling seed (the same noise at every grid, so grids
            show training progress). Defaults to 0.
        scale (int): Upscaling of the drawn tiles. Defaults to 2.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 500,
                 num_samples: int = 16,
                 num_steps: int = 50,
                 seed: int = 0,
                 scale: int = 2) -> None:
        self.interval = interval
        self.num_samples = num_samples
        self.num_steps = num_steps
        self.seed = seed
        self.scale = scale

    def _model(self, runner):
        for hook in runner.hooks:
            if isinstance(hook, EMAHook) and hasattr(hook, 'ema_model'):
                return hook.ema_model.module
        return unwrap_model(runner)

    @torch.no_grad()
    def draw(self, runner) -> Optional[np.ndarray]:
        """Generate and send one grid; returns it (RGB) on rank 0."""
        from mmengine.dist import is_main_process
        if not is_main_process():
            return None
        model = self._model(runner)
        was_training = model.training
        model.eval()
        sched = model.scheduler
        labels = None
        num_classes = getattr(model.backbone, 'num_classes', None)
        gen = torch.Generator().manual_seed(self.seed)
        if num_classes:
            labels = torch.randint(
                0, num_classes, (self.num_samples, ),
                generator=gen).to(next(model.parameters()).device)
        out = model.sample(
            self.num_samples,
            num_steps=self.num_steps,
            scheduler=dict(
                type='DDIMNoiseScheduler',
                num_train_timesteps=sched.num_train_timesteps,
                beta_schedule=sched.beta_schedule),
            labels=labels,
            generator=gen)
        model.train(was_training)
        grid = make_grid(
            to_uint8_images(out['images']),
            masks_to_ids(out['masks']),
            out['masks'].shape[1],
            scale=self.scale)
        runner.visualizer.add_image('samples', grid, step=runner.iter + 1)
        return grid

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            self.draw(runner)

    def after_train(self, runner) -> None:
        if runner.iter % self.interval:
            self.draw(runner)
