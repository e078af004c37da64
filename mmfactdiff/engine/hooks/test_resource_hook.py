# Copyright (c) mmfactdiff contributors. All rights reserved.
import resource
import time
from typing import Optional

import torch
from mmengine.hooks import Hook

from mmfactdiff.registry import HOOKS


@HOOKS.register_module()
class TestResourceHook(Hook):
    """Measure what a test run costs, beside its metrics.

    At the end of the test loop it publishes, through mmengine's message
    hub (so the logger prints them and writes them to the run's JSON with
    the metrics):

    - ``test/sec_per_img``: wall-clock seconds of the test loop (data
      loading, model and metrics) divided by the number of test images;
    - ``test/peak_rss_GB``: the process's peak resident memory so far
      (``ru_maxrss``: model building and loading included), in GB;
    - ``test/peak_cuda_GB`` on a GPU: the peak allocated CUDA memory.

    ``tools/test.py --resources`` adds it. Numbers of one machine compare
    with numbers of the same machine only: state it beside them.
    """

    priority = 'NORMAL'

    def __init__(self) -> None:
        self._start: Optional[float] = None

    def before_test_epoch(self, runner) -> None:
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        self._start = time.perf_counter()

    def after_test_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        if self._start is None:
            return
        seconds = time.perf_counter() - self._start
        images = len(runner.test_dataloader.dataset)
        hub = runner.message_hub
        hub.update_scalar('test/sec_per_img', seconds / max(images, 1))
        # ru_maxrss is in kilobytes on Linux
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        hub.update_scalar('test/peak_rss_GB', peak)
        if torch.cuda.is_available():
            hub.update_scalar('test/peak_cuda_GB',
                              torch.cuda.max_memory_allocated() / 1024**3)
