# Copyright (c) mmfactdiff contributors. All rights reserved.
import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmfactdiff.engine.hooks.hook_utils import unwrap_model
from mmfactdiff.registry import HOOKS
from mmfactdiff.utils import check_int
from .collapse_guard_hook import mean_smallest_region_share


@HOOKS.register_module()
class RegionRestartHook(Hook):
    """Restart the mask generator when its regions collapse onto one.

    A remedy for the factorized model's collapse, as dead codes are
    restarted in vector quantisers: once a run has split its images into
    regions, a collapse (every pixel in one region, the mask logits
    saturated, so the straight-through gradient that could bring the other
    region back has faded) is met by re-initialising the mask generator's
    output conv (``decode_head.conv_seg``, PyTorch's default init, as the
    main job builds it: the head's ``init_cfg`` must be None) and clearing
    its optimizer moments. Everything else keeps what it learnt; the fresh
    layer draws new, unsaturated regions from the mask generator's
    features.

    The collapse signal is :class:`CollapseGuardHook`'s: every ``interval``
    iterations, the mean over ``num_images`` fixed training images (pixels
    only, no labels) of the pixel share of each image's smallest region
    under the one-pass read-out (``train/restart/min_share`` in the message
    hub). The hook arms at the first check at or above ``min_share``
    (runs start collapsed, before regions emerge), or, with ``arm_after``,
    at the first check more than ``arm_after`` iterations after the start
    of training or after the last restart (runs that collapse before their
    regions ever split the images); armed, it restarts after ``patience``
    consecutive checks below ``min_share``, and disarms. Its counters are
    saved in checkpoints, so ``--resume`` continues exactly. The check restores
    every global random state, so a run that never restarts is the same
    run as without the hook. Not in the paper.

    Args:
        interval (int): Iterations between checks. Defaults to 25.
        min_share (float): Mean smallest-region share under which a check
            counts as collapsed. Defaults to 0.1.
        patience (int): Consecutive collapsed checks before a restart.
            Defaults to 2.
        num_images (int): Training images read out at every check (the
            first ones of the training dataset). Defaults to 64.
        max_restarts (int): Restarts after which the hook only warns.
            Defaults to 10.
        arm_after (int, optional): Also arm once this many iterations have
            passed since the start or the last restart without a healthy
            check. None arms on healthy checks only. Defaults to None.
    """

    priority = 'NORMAL'  # before CheckpointHook (VERY_LOW) saves the iter

    def __init__(self,
                 interval: int = 25,
                 min_share: float = 0.1,
                 patience: int = 2,
                 num_images: int = 64,
                 max_restarts: int = 10,
                 arm_after: Optional[int] = None) -> None:
        if not 0. < min_share < 1.:
            raise ValueError('RegionRestartHook: min_share must be in (0, 1),'
                             f' got {min_share!r}')
        self.interval = check_int(interval, 'RegionRestartHook: interval', 1)
        self.min_share = min_share
        self.patience = check_int(patience, 'RegionRestartHook: patience', 1)
        self.num_images = check_int(num_images,
                                    'RegionRestartHook: num_images', 1)
        self.max_restarts = check_int(max_restarts,
                                      'RegionRestartHook: max_restarts')
        self.arm_after = (None if arm_after is None else check_int(
            arm_after, 'RegionRestartHook: arm_after'))
        self._images: Optional[list] = None
        self._state = dict(
            armed=False, bad_checks=0, restarts=0, last_restart=0)

    def before_train(self, runner) -> None:
        model = unwrap_model(runner)
        if not hasattr(model, 'predict_regions') or not hasattr(
                getattr(model, 'decode_head', None), 'conv_seg'):
            raise TypeError(
                'RegionRestartHook needs a segmentor with predict_regions and '
                'a decode_head with conv_seg (FactorizedDiffusionSegmentor), '
                f'got {type(model).__name__}')
        if model.decode_head.init_cfg is not None:
            raise ValueError(
                'RegionRestartHook re-initialises decode_head.conv_seg with '
                "PyTorch's default init, but the head has init_cfg="
                f'{model.decode_head.init_cfg!r}: set '
                'model.decode_head.init_cfg=None (as the main job does)')
        dataset = runner.train_dataloader.dataset
        if len(dataset) < 1:
            raise ValueError('RegionRestartHook: the training dataset is '
                             'empty')
        num = min(self.num_images, len(dataset))
        py_state, np_state = random.getstate(), np.random.get_state()
        with torch.random.fork_rng(devices=[]):
            self._images = [dataset[i]['inputs'] for i in range(num)]
        random.setstate(py_state)
        np.random.set_state(np_state)

    def _min_share(self, runner) -> float:
        with torch.random.fork_rng(devices=[]):
            return mean_smallest_region_share(
                unwrap_model(runner), self._images)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if not self.every_n_train_iters(runner, self.interval):
            return
        share = self._min_share(runner)
        runner.message_hub.update_scalar('train/restart/min_share', share)
        st = self._state
        if share >= self.min_share:
            st['armed'], st['bad_checks'] = True, 0
            return
        if (not st['armed'] and self.arm_after is not None
                and runner.iter + 1 - st['last_restart'] > self.arm_after):
            st['armed'] = True  # collapsed before the regions ever split
        if not st['armed']:
            return  # regions have not emerged (again) yet
        st['bad_checks'] += 1
        if st['bad_checks'] < self.patience:
            return
        if st['restarts'] >= self.max_restarts:
            print_log(
                f'RegionRestartHook: regions collapsed at iteration '
                f'{runner.iter + 1} and max_restarts={self.max_restarts} is '
                'used up: not restarting',
                logger='current',
                level=30)
            st['armed'] = False
            return
        self.restart(runner)
        st['restarts'] += 1
        st['armed'], st['bad_checks'] = False, 0
        st['last_restart'] = runner.iter + 1
        print_log(
            f'RegionRestartHook: regions collapsed at iteration '
            f'{runner.iter + 1} (restart/min_share {share:.3f} < '
            f'{self.min_share} for {self.patience} checks); re-initialised '
            f'decode_head.conv_seg and its optimizer moments (restart '
            f'{st["restarts"]} of at most {self.max_restarts})',
            logger='current',
            level=30)
        runner.message_hub.update_scalar('train/restart/restarts',
                                         st['restarts'])

    def restart(self, runner) -> None:
        """Re-initialise ``decode_head.conv_seg`` and drop its optimizer
        state (Adam's moments would otherwise push the fresh weights back
        the way the collapsed ones went)."""
        conv = unwrap_model(runner).decode_head.conv_seg
        conv.reset_parameters()
        params = {id(p) for p in conv.parameters()}
        optimizer = runner.optim_wrapper.optimizer
        for group in optimizer.param_groups:
            for p in group['params']:
                if id(p) in params:
                    optimizer.state.pop(p, None)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['region_restart'] = dict(self._state)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        saved = checkpoint.get('region_restart')
        if saved is not None:
            self._state.update(saved)
