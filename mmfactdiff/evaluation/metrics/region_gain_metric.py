# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmfactdiff.registry import METRICS


@METRICS.register_module()
class RegionGainMetric(BaseMetric):
    """Label-free region gain of a factorized model, in percent.

    ``100 * (sum L_one - sum L_own) / sum L_one`` over the split, where
    ``L_own`` is an image's denoising loss when the shared decoder uses the
    model's own regions and ``L_one`` the loss with every pixel in one
    region, at the read-out's noise level (``region_gain_losses`` of
    ``mmfactdiff.models.utils``). No label is read: it scores unlabeled
    images as well, and it is what the main job selects its checkpoint by
    (``default_hooks.checkpoint.save_best='region_gain'``): on the
    built-in data it ranks checkpoints as their foreground IoU does, and a
    collapsed model (one region) scores 0 (docs/emergence.md).

    The model must return the losses: set ``model.test_cfg.region_gain``
    to True (``FactorizedDiffusionSegmentor.predict``).

    Args:
        collect_device (str): Device used to collect results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix added to the output key. Defaults
            to None.
    """

    def __init__(self,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Collect each image's ``(L_one, L_own)``."""
        for sample in data_samples:
            if 'region_gain_losses' not in sample:
                raise KeyError(
                    'RegionGainMetric: the predictions carry no '
                    '"region_gain_losses"; set model.test_cfg.region_gain='
                    'True (FactorizedDiffusionSegmentor computes them)')
            pair = np.asarray(sample['region_gain_losses'], dtype=np.float64)
            if pair.shape != (2, ):
                raise ValueError(
                    'RegionGainMetric: region_gain_losses must hold '
                    f'(L_one, L_own), got shape {pair.shape}')
            self.results.append(pair)

    def compute_metrics(self, results: List[np.ndarray]) -> Dict[str, float]:
        """The relative loss reduction of the own regions, in percent."""
        one, own = np.sum(results, axis=0)
        if not np.isfinite([one, own]).all() or one <= 0:
            raise ValueError(
                f'RegionGainMetric: non-finite or zero losses over '
                f'{len(results)} images (sum L_one={one}, L_own={own})')
        gain = round(float(100 * (one - own) / one), 2)
        print_log(
            'protocol: region gain, the relative denoising loss reduction '
            'of the model\'s own regions against one region at the '
            'read-out\'s t (label-free)',
            logger='current')
        print_log(
            f'{len(results)} images: region_gain={gain:.2f}', logger='current')
        return {'region_gain': gain}
