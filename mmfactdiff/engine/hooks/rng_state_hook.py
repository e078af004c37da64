# Copyright (c) mmfactdiff contributors. All rights reserved.
import logging
import random
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log

from mmfactdiff.registry import HOOKS

RNG_KEY = 'rng_states'


def _get_local_state() -> Dict[str, Any]:
    """This process's python, numpy, torch (and CUDA) RNG states, encoded
    with tensors and plain Python types only, so that a checkpoint holding
    them loads with ``torch.load(weights_only=True)``."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    state = dict(
        python=(version, tuple(internal), gauss_next),
        numpy=dict(
            name=str(name),
            keys=torch.from_numpy(keys.astype(np.int64)),
            pos=int(pos),
            has_gauss=int(has_gauss),
            cached_gaussian=float(cached)),
        torch=torch.get_rng_state(),
        cuda=None)
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state()  # the current device's
    return state


def _set_local_state(state: Dict[str, Any]) -> None:
    """Inverse of :func:`_get_local_state`."""
    version, internal, gauss_next = state['python']
    random.setstate((version, tuple(internal), gauss_next))
    npy = state['numpy']
    np.random.set_state((npy['name'], npy['keys'].numpy().astype(np.uint32),
                         npy['pos'], npy['has_gauss'], npy['cached_gaussian']))
    torch.set_rng_state(state['torch'].cpu())
    if state.get('cuda') is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state(state['cuda'].cpu())


class _RestoreBeforeFirstFetch:
    """Stands in for ``IterBasedTrainLoop.dataloader_iterator`` on resume:
    lets the loop skip the ``skip`` batches it has already trained on, then
    restores the RNG states just before it fetches the first new batch (and
    puts the real iterator back)."""

    def __init__(self, loop: Any, skip: int, state: Dict[str, Any]) -> None:
        self._loop = loop
        self._iterator = loop.dataloader_iterator
        self._skip = skip
        self._state = state

    def __iter__(self) -> '_RestoreBeforeFirstFetch':
        return self

    def __next__(self) -> Any:
        if self._skip > 0:
            self._skip -= 1
            return next(self._iterator)
        _set_local_state(self._state)
        self._loop.dataloader_iterator = self._iterator
        return next(self._iterator)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the random number generators in checkpoints and restore them on
    resume, so that a resumed run draws exactly the random numbers an
    uninterrupted run draws.

    mmengine 0.10 checkpoints hold the weights, optimizer, parameter
    schedulers, message hub and (with ``EMAHook``) the EMA weights, and
    ``IterBasedTrainLoop`` replays the sampler to the saved iteration, but
    no RNG state is saved: after ``--resume`` the diffusion timesteps and
    noise (torch's global RNG) and the data augmentation (numpy's global
    RNG, e.g. ``RandomFlip`` with ``num_workers=0``) differ from the
    uninterrupted run. This hook adds ``checkpoint['rng_states']``:

    - python ``random``, numpy and torch CPU states, plus the current CUDA
      device's state where CUDA is in use;
    - one entry per rank (gathered from every process when a
      ``CheckpointHook`` is about to save), so multi-process runs resume
      exactly when resumed with the same number of processes.

    On resume (not on ``load_from``) each rank gets its own states back just
    before the loop fetches the first batch that was not trained on, i.e.
    after mmengine's replay of the already-trained batches, whose data
    pipeline would otherwise consume the restored numpy state.

    Validation is made RNG-neutral (the states are saved before it and put
    back after it), so the training stream does not depend on whether (or
    how often) a run validates, and a checkpoint written just before
    validation resumes exactly.

    Exactness also needs a fixed ``randomness.seed`` (the sampler's shuffle
    is seeded from it, not restored) and deterministic kernels
    (``randomness.deterministic=True`` on GPUs); it is checked on CPU by
    ``tests/test_engine/test_resume.py``.
    """

    # After every other after_train_iter hook (e.g. LOW = 70) but before
    # CheckpointHook (VERY_LOW = 90), so the gathered states are the ones
    # at the moment of saving.
    priority = 80

    def __init__(self) -> None:
        self._gathered: Optional[List[Optional[dict]]] = None
        self._gathered_at: Optional[tuple] = None
        self._val_local: Optional[dict] = None
        self._val_gathered: Optional[List[Optional[dict]]] = None
        self._pending: Optional[dict] = None

    # -- saving ----------------------------------------------------------
    @staticmethod
    def _collect() -> List[Optional[dict]]:
        """Every rank's states, indexed by rank (a collective call when
        distributed)."""
        _, world_size = get_dist_info()
        local = _get_local_state()
        if world_size == 1:
            return [local]
        return all_gather_object(local)

    @staticmethod
    def _checkpoint_due(runner, by_epoch: bool) -> bool:
        """Whether a ``CheckpointHook`` saves at the end of this iteration
        (``by_epoch=False``) or epoch (``by_epoch=True``)."""
        for hook in runner.hooks:
            if not isinstance(hook, CheckpointHook) or \
                    hook.by_epoch != by_epoch:
                continue
            if by_epoch:
                periodic = hook.every_n_epochs(runner, hook.interval,
                                               hook.save_begin)
                last = hook.is_last_train_epoch(runner)
            else:
                periodic = hook.every_n_train_iters(runner, hook.interval,
                                                    hook.save_begin)
                last = hook.is_last_train_iter(runner)
            due = periodic or (hook.save_last and last)
            if due:
                return True
        return False

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Any = None,
                         outputs: Optional[dict] = None) -> None:
        """Gather the states of all ranks if a checkpoint is about to be
        saved (every rank calls this; only rank 0 saves)."""
        if self._checkpoint_due(runner, by_epoch=False):
            self._gathered = self._collect()
            self._gathered_at = (runner.epoch, runner.iter)

    def after_train_epoch(self, runner) -> None:
        """As :meth:`after_train_iter`, for epoch-based checkpoints."""
        if self._checkpoint_due(runner, by_epoch=True):
            self._gathered = self._collect()
            self._gathered_at = (runner.epoch, runner.iter)

    def before_val(self, runner) -> None:
        """Snapshot the states (and gather them, for checkpoints saved
        during validation such as ``save_best``)."""
        self._val_local = _get_local_state()
        self._val_gathered = self._collect()

    def after_val(self, runner) -> None:
        """Undo whatever validation drew from the global RNGs."""
        if self._val_local is not None:
            _set_local_state(self._val_local)
        self._val_local = self._val_gathered = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Add ``checkpoint['rng_states']`` (runs on rank 0 only)."""
        _, world_size = get_dist_info()
        if self._val_gathered is not None:
            states = self._val_gathered
        elif self._gathered_at == (runner.epoch, runner.iter):
            states = self._gathered
        else:  # a save this hook did not foresee: rank 0's state only
            states = [_get_local_state()] + [None] * (world_size - 1)
        checkpoint[RNG_KEY] = dict(world_size=world_size, states=states)

    # -- resuming --------------------------------------------------------
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """On resume, keep this rank's states for :meth:`before_train`."""
        if not getattr(runner, '_resume', False):
            return  # load_from: weights only, a new run
        if getattr(runner, '_randomness_cfg', {}).get('seed') is None:
            print_log(
                'Resuming without randomness.seed: the data sampler is '
                'seeded afresh, so the run will not repeat the interrupted '
                'one exactly.',
                logger='current',
                level=logging.WARNING)
        saved = checkpoint.get(RNG_KEY)
        rank, world_size = get_dist_info()
        if saved is None:
            print_log(
                'The checkpoint has no RNG states (saved without '
                'RNGStateHook): the resumed run continues from freshly '
                'seeded generators and will not repeat the interrupted one '
                'exactly.',
                logger='current',
                level=logging.WARNING)
        elif saved['world_size'] != world_size:
            print_log(
                f'The checkpoint was saved by {saved["world_size"]} '
                f'processes, this run has {world_size}: RNG states are not '
                'restored, so the run will not repeat the interrupted one '
                'exactly.',
                logger='current',
                level=logging.WARNING)
        elif saved['states'][rank] is None:
            print_log(
                f'The checkpoint has no RNG state for rank {rank}: it '
                'continues from a freshly seeded generator.',
                logger='current',
                level=logging.WARNING)
        else:
            self._pending = saved['states'][rank]

    def before_train(self, runner) -> None:
        """Arrange for the restored states to take effect right before the
        first new batch is fetched (after mmengine's replay of the trained
        ones)."""
        if self._pending is None:
            return
        state, self._pending = self._pending, None
        loop = runner.train_loop
        skip = getattr(loop, 'iter', 0)
        if hasattr(loop, 'dataloader_iterator') and skip > 0:
            loop.dataloader_iterator = _RestoreBeforeFirstFetch(
                loop, skip, state)
        else:  # epoch-based loops resume at an epoch boundary: no replay
            _set_local_state(state)
