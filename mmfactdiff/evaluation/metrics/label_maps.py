# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Reading the (H, W) maps that metrics receive in data samples."""
from typing import Any

import numpy as np


def label_map(field: Any, name: str) -> np.ndarray:
    """One (H, W) numpy map from a ``PixelData`` (or its dict form), a
    tensor on any device, or an array; a leading axis of size 1 is dropped.

    Args:
        field: ``data_sample['pred_sem_seg']`` or similar.
        name (str): Field name, for the error message.
    """
    data = field['data'] if isinstance(field, dict) else \
        getattr(field, 'data', field)
    if hasattr(data, 'detach'):
        data = data.detach().cpu().numpy()
    data = np.asarray(data)
    if data.ndim == 3 and data.shape[0] == 1:
        data = data[0]
    if data.ndim != 2:
        raise ValueError(f'{name} must be one (H, W) map, got {data.shape}.')
    return data
