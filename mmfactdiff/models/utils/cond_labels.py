# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Optional, Sequence

import torch
from torch import Tensor


def labels_from_metas(metas: Optional[Sequence], key: Optional[str],
                      device: torch.device) -> Optional[Tensor]:
    """Class labels (B, ) of a class-conditional model from sample metainfo.

    Args:
        metas (Sequence, optional): Data samples or their metainfo dicts.
        key (str, optional): The metainfo key of the label; None for an
            unconditional model (returns None).
        device (torch.device): Device of the returned labels.

    Raises:
        ValueError: when a conditional model gets no samples.
        KeyError: naming the sample file whose metainfo lacks ``key``.
    """
    if key is None:
        return None
    if not metas:
        raise ValueError('a class-conditional model needs data samples '
                         f'carrying {key!r}')
    labels = []
    for meta in metas:
        meta = meta.metainfo if hasattr(meta, 'metainfo') else meta
        if key not in meta:
            raise KeyError(
                f'sample {meta.get("img_path", "?")} has no {key!r} in its '
                'metainfo (needed by the class-conditional model)')
        labels.append(int(meta[key]))
    return torch.tensor(labels, device=device)
