# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import List, Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmfactdiff.registry import HOOKS
from .hook_utils import regions_below


@HOOKS.register_module()
class MaskUsageHook(Hook):
    """Make region collapse and symmetric masks visible while training.

    After every training iteration it reads the mask statistics that the
    segmentor's ``loss`` returns as log variables (statistics of that
    step's mask probabilities: the softmax of the mask generator, also when
    the training masks are hard Gumbel samples, whose entropy is always 0;
    mmengine logs them to the text log and every visualizer backend, e.g.
    TensorBoard):

    - ``mask/usage_k``: batch-mean mask of region k (sums to 1 over k);
    - ``mask/entropy``: mean per-pixel entropy of the masks (log K when
      uniform, 0 when one-hot);
    - ``mask/spatial_std``: mean over images and regions of the masks'
      standard deviation over pixels (0 when the masks ignore the image).

    It warns, naming the region, when a region's usage stays below
    ``min_usage`` for ``patience`` iterations (collapse onto fewer regions),
    and when the masks stay spatially uniform (``spatial_std`` below
    ``uniform_std``) for ``patience`` iterations (the symmetric fixed point).

    Args:
        min_usage (float): Usage under which a region counts as dead.
            Defaults to 0.02.
        uniform_std (float): Spatial std under which masks count as
            uniform. Defaults to 0.01.
        patience (int): Iterations a condition must hold before a warning.
            Defaults to 200.
        warn_interval (int): Iterations between repeated warnings.
            Defaults to 500.
    """

    priority = 'LOW'

    def __init__(self,
                 min_usage: float = 0.02,
                 uniform_std: float = 0.01,
                 patience: int = 200,
                 warn_interval: int = 500) -> None:
        self.min_usage = min_usage
        self.uniform_std = uniform_std
        self.patience = patience
        self.warn_interval = warn_interval
        self._dead_since: dict = {}
        self._uniform_since: Optional[int] = None
        self._last_warn: dict = {}

    def _warn(self, key: str, it: int, msg: str) -> None:
        last = self._last_warn.get(key)
        if last is None or it - last >= self.warn_interval:
            self._last_warn[key] = it
            print_log(msg, logger='current', level=30)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if not outputs or 'mask/entropy' not in outputs:
            return
        it = runner.iter + 1
        usage: List[float] = []
        while f'mask/usage_{len(usage)}' in outputs:
            usage.append(float(outputs[f'mask/usage_{len(usage)}']))
        spatial = float(outputs['mask/spatial_std'])

        for k, u, below in regions_below(self._dead_since, usage,
                                         self.min_usage, it):
            if below >= self.patience:
                self._warn(
                    f'dead{k}', it,
                    f'region {k} is collapsing: its usage is {u:.4f} < '
                    f'{self.min_usage} for {below} iterations (the masks use '
                    'fewer regions than K; runs can recover from it: '
                    'docs/emergence.md)')
        if spatial < self.uniform_std:
            if self._uniform_since is None:
                self._uniform_since = it
            if it - self._uniform_since >= self.patience:
                self._warn(
                    'uniform', it,
                    f'masks are spatially uniform (spatial std {spatial:.4f} '
                    f'< {self.uniform_std}) for {it - self._uniform_since} '
                    'iterations: regions are not emerging (symmetric fixed '
                    'point; see docs/emergence.md)')
        else:
            self._uniform_since = None
