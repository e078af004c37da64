# Copyright (c) mmfactdiff contributors. All rights reserved.
"""A hook that kills its own training process with SIGKILL, for tests.

Imported by test configs (``custom_imports``); it does nothing unless the
environment variable ``MMFACTDIFF_TEST_KILL`` names a point, so every run
of a killed-and-resumed chain uses the same config:

- ``step:N``: inside iteration N, after the backward pass and before the
  optimizer update;
- ``save:N``: while the checkpoint of iteration N is written (half of its
  bytes are on disk);
- ``val:N``: during the validation that follows iteration N.
"""
import io
import os
import signal
import sys

import torch
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

ENV = 'MMFACTDIFF_TEST_KILL'


def _die() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class SigkillHook(Hook):
    """Kill the process at the point named by ``MMFACTDIFF_TEST_KILL``."""

    priority = 'HIGHEST'

    def __init__(self) -> None:
        spec = os.environ.get(ENV, '')
        self.point, _, at = spec.partition(':')
        self.at = int(at) if at else None

    def before_train(self, runner) -> None:
        if self.point == 'step':
            wrapper = runner.optim_wrapper
            real_step = wrapper.step

            def step_or_die(*args, **kwargs):
                if runner.iter + 1 == self.at:
                    _die()
                return real_step(*args, **kwargs)

            wrapper.step = step_or_die
        elif self.point == 'save':
            module = sys.modules['mmengine.runner.runner']
            real_save = module.save_checkpoint

            def save_or_die(checkpoint, filename, **kwargs):
                # hooks save before the loop counts the iteration as done
                if runner.iter + 1 == self.at:
                    buf = io.BytesIO()
                    torch.save(checkpoint, buf)
                    with open(filename, 'wb') as f:
                        f.write(buf.getvalue()[:buf.tell() // 2])
                        f.flush()
                    _die()
                return real_save(checkpoint, filename, **kwargs)

            module.save_checkpoint = save_or_die

    def before_val_iter(self, runner, batch_idx, data_batch=None) -> None:
        if self.point == 'val' and runner.iter == self.at:
            _die()
