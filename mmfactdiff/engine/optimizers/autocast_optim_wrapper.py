# Copyright (c) mmfactdiff contributors. All rights reserved.
from contextlib import contextmanager

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from mmfactdiff.registry import OPTIM_WRAPPERS

AUTOCAST_DTYPES = ('bfloat16', )


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` that runs the forward pass under bfloat16 autocast,
    on any device, CPUs included.

    mmengine's ``AmpOptimWrapper`` refuses to run without a GPU, NPU, MLU
    or MUSA device and scales the loss for float16. bfloat16 has float32's
    exponent range, so it needs no loss scaling: this wrapper only opens
    ``torch.autocast`` on the model's device around the forward pass
    (``optim_context``). Gradients, the optimizer step and its state stay
    float32; the segmentor computes its loss in float32. ``tools/train.py
    --amp --amp-dtype bfloat16`` selects it on machines without CUDA.

    Args:
        dtype (str): Autocast dtype; only ``'bfloat16'`` (float16 needs the
            loss scaling of ``AmpOptimWrapper``). Defaults to 'bfloat16'.
        **kwargs: :class:`mmengine.optim.OptimWrapper` arguments
            (``optimizer``, ``clip_grad``, ``accumulative_counts``).
    """

    def __init__(self, dtype: str = 'bfloat16', **kwargs) -> None:
        if dtype not in AUTOCAST_DTYPES:
            raise ValueError(
                f'AutocastOptimWrapper: dtype must be one of '
                f'{AUTOCAST_DTYPES}, got {dtype!r} (float16 needs loss '
                "scaling: use mmengine's AmpOptimWrapper on a GPU)")
        super().__init__(**kwargs)
        self.dtype = dtype

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Gradient-accumulation context of ``OptimWrapper``, plus autocast
        to ``dtype`` on the device of the model's parameters."""
        param = next(model.parameters(), None)
        device = param.device.type if param is not None else 'cpu'
        with super().optim_context(model), torch.autocast(
                device_type=device, dtype=getattr(torch, self.dtype)):
            yield
