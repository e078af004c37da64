# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Let torch >= 2.6 load the checkpoints that mmengine 0.10 writes.

torch 2.6 made ``torch.load(weights_only=True)`` the default; mmengine
0.10.7 calls ``torch.load`` without the argument, and its checkpoints carry
a pickled message hub (``HistoryBuffer`` objects holding numpy arrays). So
``--resume``, ``load_from`` and ``tools/test.py`` fail with "Weights only
load failed". Instead of turning the safe loader off, the few types those
checkpoints need are added to torch's allow-list.
"""
import numpy as np
import torch


def allow_mmengine_checkpoints() -> None:
    """Allow-list the types found in mmengine training checkpoints."""
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:  # torch < 2.4 loads them anyway
        return
    from mmengine.logging.history_buffer import HistoryBuffer
    types = [
        HistoryBuffer, np.ndarray, np.dtype, np.core.multiarray._reconstruct,
        np.core.multiarray.scalar
    ]
    # numpy >= 1.25 pickles dtypes by their own classes (Float64DType...)
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        types += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType')
        ]
    types += [np.float64, np.float32, np.int64, np.int32, np.bool_]
    # HistoryBuffer pickles its statistics methods as getattr(cls, 'min').
    # The weights-only unpickler still refuses to CALL anything that is not
    # allow-listed, so getattr only grants attribute access.
    types.append(getattr)
    add(types)
