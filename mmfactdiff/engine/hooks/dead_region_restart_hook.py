# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmfactdiff.registry import HOOKS
from .hook_utils import regions_below, unwrap_model


@HOOKS.register_module()
class DeadRegionRestartHook(Hook):
    """Restart regions that the mask generator stopped using.

    When a region's usage (batch-mean training mask, from the segmentor's
    ``mask_stats``) stays below ``min_usage`` for ``patience`` iterations,
    its row of the mask generator's last layer (``conv_seg``) is replaced by
    a perturbed copy of the most used region's row, so the dead region
    splits the dominant one (as dead-code restarts do in vector
    quantisation), and the optimizer's moments of both rows are reset. Not
    part of the paper. Its counters are not saved in checkpoints: after
    ``--resume`` they start again from zero.

    Args:
        min_usage (float): Usage under which a region counts as dead.
            Defaults to 0.02.
        patience (int): Iterations below ``min_usage`` before a restart.
            Defaults to 100.
        noise_std (float): Std of the perturbation, relative to the std of
            the copied row. Defaults to 0.1.
        max_restarts (int): Restarts allowed per run (0 = unlimited).
            Defaults to 0.
    """

    priority = 'LOW'

    def __init__(self,
                 min_usage: float = 0.02,
                 patience: int = 100,
                 noise_std: float = 0.1,
                 max_restarts: int = 0) -> None:
        self.min_usage = min_usage
        self.patience = patience
        self.noise_std = noise_std
        self.max_restarts = max_restarts
        self.restarts = 0
        self._dead_since: dict = {}

    @torch.no_grad()
    def restart(self, model, dead: int, donor: int, optimizer=None) -> None:
        """Copy region ``donor``'s logit row (perturbed) into ``dead``."""
        conv = model.decode_head.conv_seg
        w = conv.weight
        scale = self.noise_std * float(w[donor].std().clamp_min(1e-8))
        w[dead] = w[donor] + torch.randn_like(w[donor]) * scale
        if conv.bias is not None:
            conv.bias[dead] = conv.bias[donor]
        if optimizer is not None:
            for p in [w] + ([conv.bias] if conv.bias is not None else []):
                for v in optimizer.state.get(p, {}).values():
                    if torch.is_tensor(v) and v.dim() > 0 and \
                            v.shape[0] == p.shape[0]:
                        v[[dead, donor]] = 0
        self.restarts += 1

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        model = unwrap_model(runner)
        stats = getattr(model, 'mask_stats', None)
        if not stats or model.sub_mask_head is not None:
            return
        if self.max_restarts and self.restarts >= self.max_restarts:
            return
        usage = stats['usage']
        it = runner.iter + 1
        for k, u, below in regions_below(self._dead_since, usage.tolist(),
                                         self.min_usage, it):
            if below >= self.patience:
                donor = int(usage.argmax())
                optim = getattr(runner.optim_wrapper, 'optimizer', None)
                self.restart(model, k, donor, optim)
                self._dead_since.pop(k)
                print_log(
                    f'region {k} was unused for {below} iterations '
                    f'(usage {u:.4f}): restarted it from region {donor}',
                    logger='current', level=30)
