# Copyright (c) mmfactdiff contributors. All rights reserved.
import threading
import time
from typing import Callable, Optional

from .benchmark_utils import rss_bytes


class PeakRSSSampler:
    """Polls a memory reading in a thread and keeps the maximum.

    Used as a context manager: the reading is taken once on construction,
    then every ``period_s`` while the block runs and once more on exit;
    ``peak`` holds the largest value seen.

    Args:
        read (callable, optional): Returns the current memory in bytes,
            e.g. ``torch.cuda.memory_allocated``. Defaults to None, this
            process's resident set size (:func:`rss_bytes`).
        period_s (float): Seconds between two readings. Defaults to 5e-4.
    """

    def __init__(self,
                 read: Optional[Callable[[], int]] = None,
                 period_s: float = 5e-4):
        self.read = read if read is not None else rss_bytes
        self.period_s = period_s
        self.peak = self.read()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.read())
            time.sleep(self.period_s)

    def __enter__(self) -> 'PeakRSSSampler':
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.read())
