# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Workarounds for the torch / mmengine versions the package supports.

Each entry says why it exists and when it can go.

- :func:`mmengine_checkpoint_globals`: torch 2.6 made
  ``torch.load(weights_only=True)`` the default, and mmengine 0.10
  checkpoints carry a pickled message hub (``HistoryBuffer`` objects holding
  numpy arrays), which the weights-only unpickler refuses. The types are
  allowed only inside this context (torch's ``safe_globals``), never
  process-wide. It can go when mmengine stops pickling its message hub into
  checkpoints (or saves it as plain tensors / lists).
"""
import contextlib
import importlib
from typing import Iterator, List

import numpy as np
import torch


def mmengine_checkpoint_types() -> List[object]:
    """The non-tensor types found in mmengine training checkpoints."""
    from mmengine.logging.history_buffer import HistoryBuffer
    try:  # numpy 2 renamed numpy.core to numpy._core
        multiarray = importlib.import_module('numpy._core.multiarray')
    except ImportError:
        multiarray = importlib.import_module('numpy.core.multiarray')
    types = [
        HistoryBuffer, np.ndarray, np.dtype, multiarray._reconstruct,
        multiarray.scalar
    ]
    # numpy >= 1.25 pickles dtypes by their own classes (Float64DType...)
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        types += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType')
        ]
    types += [np.float64, np.float32, np.int64, np.int32, np.bool_]
    # HistoryBuffer's pickled state refers to its statistics methods as
    # getattr(cls, name). Unavoidable for checkpoints mmengine has written;
    # only ever allowed inside mmengine_checkpoint_globals(), and the
    # weights-only unpickler still refuses to CALL anything it returns.
    types.append(getattr)
    return types


@contextlib.contextmanager
def mmengine_checkpoint_globals() -> Iterator[None]:
    """Allow the types of :func:`mmengine_checkpoint_types` in torch's
    weights-only unpickler for the duration of the context only.

    On torch without ``torch.serialization.safe_globals`` (< 2.5) nothing
    is added: weights-only loads of mmengine checkpoints then fail with
    torch's message.
    """
    scope = getattr(torch.serialization, 'safe_globals', None)
    if scope is None:
        yield
        return
    with scope(mmengine_checkpoint_types()):
        yield
