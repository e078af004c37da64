# Copyright (c) mmfactdiff contributors. All rights reserved.
import copy
import random
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from torch import Tensor

from mmfactdiff.engine.hooks.hook_utils import unwrap_model
from mmfactdiff.registry import HOOKS
from mmfactdiff.utils import check_int


def smallest_region_share(probs: Tensor) -> Tensor:
    """Per image, the pixel share of its smallest region under argmax.

    Args:
        probs (Tensor): Region probabilities (B, K, H, W).

    Returns:
        Tensor: (B, ) shares in [0, 1 / K]; 0 when an image's pixels all go
        to fewer than K regions.
    """
    labels = probs.argmax(dim=1)
    shares = torch.stack([(labels == k).float().mean(dim=(1, 2))
                          for k in range(probs.shape[1])],
                         dim=1)
    return shares.min(dim=1).values


def mean_smallest_region_share(model, images: Sequence[Tensor]) -> float:
    """The collapse signal: mean smallest-region share of images' read-out.

    Args:
        model: A segmentor with ``data_preprocessor`` and
            ``predict_regions`` (the one-pass read-out at ``test_cfg.t``).
        images (Sequence[Tensor]): Images as the dataset packs them
            (C, H, W), before preprocessing.

    Returns:
        float: The mean over images of :func:`smallest_region_share`. The
        model is read in eval mode and left in the mode it was in.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            data = model.data_preprocessor(dict(inputs=list(images)), False)
            probs = model.predict_regions(data['inputs'])
    finally:
        model.train(was_training)
    return float(smallest_region_share(probs).mean())


@HOOKS.register_module()
class CollapseGuardHook(Hook):
    """Roll training back to the last healthy weights when regions collapse.

    Every ``interval`` iterations the hook reads out the regions of a fixed
    set of *training* images (their pixels only: no labels) with the
    segmentor's one-pass read-out (``predict_regions`` at ``test_cfg.t``)
    and takes, per image, the pixel share of the smallest region under
    argmax; ``guard/min_share`` is their mean (logged through the message
    hub). A run whose masks collapse onto one region has a share near 0;
    on the built-in data every checkpoint of the study with a share under
    0.05 scored near the all-foreground level and every one above 0.1
    scored 45 or more (docs/emergence.md, "A label-free collapse guard").

    The hook keeps in-memory copies of the model and optimizer state of the
    last ``history`` checks whose share was at least ``min_share`` (the
    guard is armed from the first such check: runs start collapsed, before
    regions emerge). When the share stays under ``min_share`` for
    ``patience`` consecutive checks, it restores the newest copy (weights,
    optimizer moments and steps) and multiplies the learning rate by
    ``lr_factor``; training goes on from there with new data and noise (a
    rollback, as large language-model runs do after loss spikes). A run
    that collapses again before any healthy check goes one copy further
    back. At the last iteration a collapsed run gets the newest healthy
    weights at once (whatever ``max_rollbacks`` says), so the final
    checkpoint is never a collapsed one when a healthy state was seen. The
    copies and counters are saved in checkpoints (``history`` extra copies
    of the weights and optimizer state), so ``--resume`` continues exactly.

    The check reads images and noise from its own fixed sources and
    restores every global random state, so a run that never rolls back is
    the same run as without the hook.

    Args:
        interval (int): Iterations between checks. Defaults to 25.
        min_share (float): Mean smallest-region share under which a check
            counts as collapsed. Defaults to 0.1.
        patience (int): Consecutive collapsed checks before a rollback.
            Defaults to 2.
        num_images (int): Training images read out at every check (the
            first ones of the training dataset). Defaults to 64.
        max_rollbacks (int): Rollbacks after which the hook only warns
            (the final restore still happens). Defaults to 10.
        history (int): Healthy copies kept; a repeated collapse goes back
            one copy further. Defaults to 3.
        lr_factor (float): Learning-rate multiplier at every rollback (1
            keeps the schedule's rate). Defaults to 0.5.
    """

    priority = 'NORMAL'  # before CheckpointHook (VERY_LOW) saves the iter

    def __init__(self,
                 interval: int = 25,
                 min_share: float = 0.1,
                 patience: int = 2,
                 num_images: int = 64,
                 max_rollbacks: int = 10,
                 history: int = 3,
                 lr_factor: float = 0.5) -> None:
        if not 0. < min_share < 1.:
            raise ValueError('CollapseGuardHook: min_share must be in (0, 1),'
                             f' got {min_share!r}')
        self.interval = check_int(interval, 'CollapseGuardHook: interval', 1)
        self.min_share = min_share
        self.patience = check_int(patience, 'CollapseGuardHook: patience', 1)
        self.num_images = check_int(num_images,
                                    'CollapseGuardHook: num_images', 1)
        self.max_rollbacks = check_int(max_rollbacks,
                                       'CollapseGuardHook: max_rollbacks')
        self.history = check_int(history, 'CollapseGuardHook: history', 1)
        if not 0. < lr_factor <= 1.:
            raise ValueError('CollapseGuardHook: lr_factor must be in (0, 1],'
                             f' got {lr_factor!r}')
        self.lr_factor = lr_factor
        self._images: Optional[list] = None
        self._state = self._empty_state()

    @staticmethod
    def _empty_state() -> dict:
        # snapshots: (iteration, model state, optimizer state) of the last
        # healthy checks, newest last; fresh: a healthy check came after the
        # last rollback
        return dict(snapshots=[], bad_checks=0, rollbacks=0, fresh=True)

    def before_train(self, runner) -> None:
        model = unwrap_model(runner)
        if not hasattr(model, 'predict_regions'):
            raise TypeError(
                'CollapseGuardHook needs a segmentor with predict_regions '
                f'(FactorizedDiffusionSegmentor), got {type(model).__name__}')
        dataset = runner.train_dataloader.dataset
        if len(dataset) < 1:
            raise ValueError('CollapseGuardHook: the training dataset is '
                             'empty')
        num = min(self.num_images, len(dataset))
        # The dataset's pipeline may draw random numbers (flips, crops):
        # keep the run's own streams where they were.
        py_state, np_state = random.getstate(), np.random.get_state()
        with torch.random.fork_rng(devices=[]):
            self._images = [dataset[i]['inputs'] for i in range(num)]
        random.setstate(py_state)
        np.random.set_state(np_state)

    def _min_share(self, runner) -> float:
        return mean_smallest_region_share(unwrap_model(runner), self._images)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        it = runner.iter + 1
        last = it >= runner.max_iters
        if not (self.every_n_train_iters(runner, self.interval) or last):
            return
        share = self._min_share(runner)
        runner.message_hub.update_scalar('train/guard/min_share', share)
        st = self._state
        if share >= self.min_share:
            st['bad_checks'] = 0
            st['fresh'] = True
            st['snapshots'].append(
                (it, copy.deepcopy(unwrap_model(runner).state_dict()),
                 copy.deepcopy(runner.optim_wrapper.state_dict())))
            del st['snapshots'][:-self.history]
            return
        st['bad_checks'] += 1
        if not st['snapshots']:
            return  # regions have not emerged yet: nothing to go back to
        if last:
            # the final weights: the last healthy ones, whatever the count
            self._restore(runner, st['snapshots'][-1], scale_lr=False)
            print_log(
                f'CollapseGuardHook: regions collapsed at the last iteration '
                f'({it}, guard/min_share {share:.3f} < {self.min_share}); '
                'the final weights are those of iteration '
                f'{st["snapshots"][-1][0]}',
                logger='current',
                level=30)
            return
        if st['bad_checks'] < self.patience:
            return
        if st['rollbacks'] >= self.max_rollbacks:
            print_log(
                f'CollapseGuardHook: regions collapsed at iteration {it} '
                f'(guard/min_share {share:.3f} < {self.min_share}) and '
                f'max_rollbacks={self.max_rollbacks} is used up: not rolling '
                'back',
                logger='current',
                level=30)
            return
        if not st['fresh'] and len(st['snapshots']) > 1:
            # collapsed again from the same weights: go further back
            st['snapshots'].pop()
        snapshot = st['snapshots'][-1]
        lr = self._restore(runner, snapshot, scale_lr=True)
        st['rollbacks'] += 1
        st['bad_checks'] = 0
        st['fresh'] = False
        print_log(
            f'CollapseGuardHook: regions collapsed at iteration {it} '
            f'(guard/min_share {share:.3f} < {self.min_share} for '
            f'{self.patience} checks); restored the weights and optimizer '
            f'state of iteration {snapshot[0]}, learning rate now {lr:.3g} '
            f'(rollback {st["rollbacks"]} of at most {self.max_rollbacks})',
            logger='current',
            level=30)
        runner.message_hub.update_scalar('train/guard/rollbacks',
                                         st['rollbacks'])

    def _restore(self, runner, snapshot: tuple, scale_lr: bool) -> float:
        """Load a snapshot's weights and optimizer moments; returns the
        first group's learning rate afterwards."""
        _, model_state, optim_state = snapshot
        unwrap_model(runner).load_state_dict(model_state)
        # the optimizer's state (moments, steps) goes back; its
        # hyper-parameters stay: parameter schedulers own the learning rate
        # and would otherwise go on from the old value (chained schedulers
        # multiply the current one); a rollback then scales the rate down,
        # and chained schedulers carry the scaled rate on
        optimizer = runner.optim_wrapper.optimizer
        hyper = [{
            k: v
            for k, v in group.items() if k != 'params'
        } for group in optimizer.param_groups]
        runner.optim_wrapper.load_state_dict(copy.deepcopy(optim_state))
        for group, values in zip(optimizer.param_groups, hyper):
            group.update(values)
            if scale_lr:
                group['lr'] *= self.lr_factor
        return float(optimizer.param_groups[0]['lr'])

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['collapse_guard'] = copy.deepcopy(self._state)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        saved = checkpoint.get('collapse_guard')
        if saved is not None:
            self._state = self._empty_state()
            self._state.update(saved)
