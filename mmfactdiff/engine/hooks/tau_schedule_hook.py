# Copyright (c) mmfactdiff contributors. All rights reserved.
import math
from typing import Optional

from mmengine.hooks import Hook

from mmfactdiff.models.decode_heads import MaskGeneratorHead
from mmfactdiff.registry import HOOKS
from .hook_utils import unwrap_model


@HOOKS.register_module()
class TauScheduleHook(Hook):
    """Anneal the Gumbel-softmax temperature of the mask generator(s).

    Before each training iteration ``tau`` of every ``MaskGeneratorHead`` in
    the model (including a hierarchical model's level-2 head) is set from a
    linear or exponential schedule between ``begin_iter`` and ``end_iter``,
    constant outside. A low tau makes the straight-through gradient closer
    to that of the hard forward pass. Not part of the paper.

    Args:
        start (float): tau at ``begin_iter``. Defaults to 1.
        end (float): tau at ``end_iter``. Defaults to 0.3.
        begin_iter (int): First iteration of the schedule. Defaults to 0.
        end_iter (int, optional): Last iteration; None means the run's
            ``max_iters``. Defaults to None.
        mode (str): ``'linear'`` or ``'exp'`` (geometric). Defaults to
            'linear'.
    """

    priority = 'NORMAL'

    def __init__(self,
                 start: float = 1.0,
                 end: float = 0.3,
                 begin_iter: int = 0,
                 end_iter: Optional[int] = None,
                 mode: str = 'linear') -> None:
        if mode not in ('linear', 'exp'):
            raise ValueError(f"mode must be 'linear' or 'exp', got {mode!r}")
        if start <= 0 or end <= 0:
            raise ValueError('tau must stay positive')
        self.start, self.end = start, end
        self.begin_iter, self.end_iter = begin_iter, end_iter
        self.mode = mode

    def tau_at(self, it: int, max_iters: int) -> float:
        """The scheduled tau at iteration ``it``."""
        end_iter = self.end_iter if self.end_iter is not None else max_iters
        span = max(end_iter - self.begin_iter, 1)
        frac = min(max((it - self.begin_iter) / span, 0.), 1.)
        if self.mode == 'linear':
            return self.start + frac * (self.end - self.start)
        return math.exp(
            math.log(self.start) + frac *
            (math.log(self.end) - math.log(self.start)))

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        model = unwrap_model(runner)
        tau = self.tau_at(runner.iter, runner.max_iters)
        for m in model.modules():
            if isinstance(m, MaskGeneratorHead):
                m.tau = tau
        runner.message_hub.update_scalar('train/mask/tau', tau)
