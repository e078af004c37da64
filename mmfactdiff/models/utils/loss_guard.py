# Copyright (c) mmfactdiff contributors. All rights reserved.
import statistics
from typing import Dict, List, Optional

import torch
from mmengine.logging import MessageHub, print_log

from mmfactdiff.utils import check_int

NONFINITE_LOSS_MODES = ('stop', 'skip')
#: Runtime-info key of the accepted loss values in mmengine's message hub.
HISTORY_KEY = 'loss_guard/history'


def nonfinite_terms(losses: Dict[str, torch.Tensor]) -> Dict[str, float]:
    """The loss terms (keys with ``'loss'``) holding NaN or inf, with their
    mean values."""
    return {
        k: float(v.detach().float().mean())
        for k, v in losses.items()
        if 'loss' in k and not torch.isfinite(v).all()
    }


class LossGuard:
    """Refuses faulty loss terms before the backward pass, and decides
    whether a refused step stops the run or is skipped.

    A fault is a loss term (a key with ``'loss'``) that is NaN or inf, or,
    with ``spike_ratio``, a finite term larger than ``spike_ratio`` times
    the median of its last ``spike_window`` accepted values (checked once
    ``spike_warmup`` values were accepted). The history is runtime info of
    mmengine's current message hub (``'loss_guard/history'``), which the
    runner saves in every checkpoint and restores with ``--resume``, so a
    resumed run checks its first step against the same median. The
    segmentor calls :meth:`check` from ``parse_losses`` and :meth:`handle`
    from ``train_step``.

    Args:
        mode (str): ``'stop'`` re-raises the fault (the weights and the
            last checkpoint stay as after the last good iteration);
            ``'skip'`` drops that step's update with a warning and stops
            once ``max_skipped_steps`` steps in a row were dropped.
            Defaults to 'stop'.
        max_skipped_steps (int): See ``mode``. Defaults to 10.
        spike_ratio (float, optional): Treat a finite term above this
            multiple of its running median as a fault. None (the default)
            checks only for NaN and inf.
        spike_window (int): Accepted values the median is taken over.
            Defaults to 100.
        spike_warmup (int): Accepted values needed before spikes are
            checked (early losses fall fast). Defaults to 20.
    """

    def __init__(self,
                 mode: str = 'stop',
                 max_skipped_steps: int = 10,
                 spike_ratio: Optional[float] = None,
                 spike_window: int = 100,
                 spike_warmup: int = 20) -> None:
        if mode not in NONFINITE_LOSS_MODES:
            raise ValueError(f'nonfinite_loss must be one of '
                             f'{NONFINITE_LOSS_MODES}, got {mode!r}')
        if spike_ratio is not None and not float(spike_ratio) > 1.:
            raise ValueError(f'loss_spike_ratio must be > 1 (a multiple of '
                             f'the running median) or None, got '
                             f'{spike_ratio!r}')
        self.mode = mode
        self.max_skipped_steps = check_int(max_skipped_steps,
                                           'max_skipped_steps', 1)
        self.spike_ratio = None if spike_ratio is None else float(spike_ratio)
        self.spike_window = check_int(spike_window, 'spike_window', 1)
        self.spike_warmup = check_int(spike_warmup, 'spike_warmup', 1)
        self.skipped_in_a_row = 0

    @staticmethod
    def history() -> Dict[str, List[float]]:
        """The accepted values of every checked term, oldest first."""
        return MessageHub.get_current_instance().get_info(HISTORY_KEY) or {}

    def _spikes(self, values: Dict[str, float],
                history: Dict[str, List[float]]) -> Dict[str, float]:
        bad = {}
        for k, value in values.items():
            seen = history.get(k)
            if seen is None or len(seen) < self.spike_warmup:
                continue
            # the lower middle value for an even count, as torch.median
            median = statistics.median_low(seen)
            if median > 0 and value > self.spike_ratio * median:
                bad[k] = value
        return bad

    def check(self, losses: Dict[str, torch.Tensor]) -> None:
        """Raise ``FloatingPointError`` (attribute ``faulty_terms``) naming
        the faulty terms and the iteration; otherwise record the values."""
        bad = nonfinite_terms(losses)
        kind = 'non-finite loss'
        values, history = {}, {}
        if not bad and self.spike_ratio is not None:
            values = {
                k: float(v.detach().float().mean())
                for k, v in losses.items() if 'loss' in k
            }
            history = self.history()
            bad = self._spikes(values, history)
            kind = (f'exploding loss (> {self.spike_ratio:g} x the median '
                    f'of its last {self.spike_window} values)')
        if bad:
            it = MessageHub.get_current_instance().get_info('iter')
            where = f' at iteration {it + 1}' if it is not None else ''
            error = FloatingPointError(
                f'{kind}{where}: {bad}. Training stopped before the '
                'update, so the last checkpoint is intact: resume from it '
                '(--resume) with a lower learning rate or '
                'optim_wrapper.clip_grad, or look for NaN/inf inputs')
            error.faulty_terms = bad  # read by handle()
            raise error
        if values:
            history = dict(history)
            for k, value in values.items():
                history[k] = (list(history.get(k, [])) +
                              [value])[-self.spike_window:]
            MessageHub.get_current_instance().update_info(HISTORY_KEY, history)

    def handle(self, error: FloatingPointError) -> Dict[str, torch.Tensor]:
        """Skip mode: the log variables of a dropped step. Re-raises in
        stop mode, for errors :meth:`check` did not raise, and after
        ``max_skipped_steps`` drops in a row."""
        bad = getattr(error, 'faulty_terms', None)
        if (bad is None or self.mode != 'skip'
                or self.skipped_in_a_row >= self.max_skipped_steps):
            raise error
        self.skipped_in_a_row += 1
        it = MessageHub.get_current_instance().get_info('iter')
        print_log(
            f'skipped the update of iteration '
            f'{"?" if it is None else it + 1}: faulty loss {bad} '
            f'({self.skipped_in_a_row} in a row; the run stops after '
            f'{self.max_skipped_steps})',
            logger='current',
            level=30)
        return dict(skipped_steps=torch.tensor(float(self.skipped_in_a_row)))

    def passed(self) -> None:
        """A step went through: reset the count of drops in a row."""
        self.skipped_in_a_row = 0
