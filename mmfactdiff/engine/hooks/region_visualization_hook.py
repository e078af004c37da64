# Copyright (c) mmfactdiff contributors. All rights reserved.
import os.path as osp
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmengine import fileio
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.structures import SegDataSample

from mmfactdiff.registry import HOOKS
from mmfactdiff.visualization import region_meta


@HOOKS.register_module()
class RegionVisualizationHook(SegVisualizationHook):
    """mmseg's ``SegVisualizationHook`` for region outputs and file-free data.

    Same arguments and behaviour (``tools/test.py --show-dir`` sets
    ``draw=True`` and the visualizer's ``save_dir``), with two changes:

    - when ``img_path`` is not a file (the built-in synthetic dataset
      renders its images), the image is taken from the batch instead of
      being read from disk;
    - colours and names follow region ids (``region 0`` ... ``region K-1``,
      extended to the number of classes so that ground truth draws too),
      since a region has no class name.

    Args:
        **kwargs: ``SegVisualizationHook`` arguments (``interval``,
            ``draw``, ``show``, ``wait_time``, ``backend_args``).
    """

    def _after_iter(self,
                    runner,
                    batch_idx: int,
                    data_batch: dict,
                    outputs: Sequence[SegDataSample],
                    mode: str = 'val') -> None:
        if self.draw is False or mode == 'train':
            return
        if not self.every_n_inner_iters(batch_idx, self.interval):
            return
        num = max(
            [o.seg_logits.data.shape[0]
             for o in outputs if 'seg_logits' in o] + [2])
        classes = (self._visualizer.dataset_meta or {}).get('classes', ())
        num = max(num, len(classes))
        self._visualizer.set_dataset_meta(**region_meta(num))
        for i, output in enumerate(outputs):
            img_path = output.img_path
            img: Optional[np.ndarray] = None
            if osp.isfile(img_path) or '://' in img_path:
                img = mmcv.imfrombytes(
                    fileio.get(img_path, backend_args=self.backend_args),
                    channel_order='rgb')
            else:  # rendered data: the batch holds the (BGR) image
                img = data_batch['inputs'][i].permute(
                    1, 2, 0).cpu().numpy()[..., ::-1].copy()
            self._visualizer.add_datasample(
                f'{mode}_{osp.basename(img_path)}',
                img,
                data_sample=output,
                show=self.show,
                wait_time=self.wait_time,
                step=_train_iter(runner))


def _train_iter(runner) -> int:
    """The training iteration, or 0 when no training loop exists.

    ``runner.iter`` builds the train loop (and so the training dataloader)
    on first access, which in ``tools/test.py`` fails whenever the training
    data is absent, as for test-only benchmark configs.
    """
    loop = getattr(runner, '_train_loop', None)
    if loop is None or isinstance(loop, dict):
        return 0
    return loop.iter
