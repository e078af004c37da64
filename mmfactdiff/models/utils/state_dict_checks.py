# Copyright (c) mmfactdiff contributors. All rights reserved.
import torch.nn as nn


def check_state_dict_shapes(module: nn.Module,
                            state_dict: dict,
                            prefix: str = '') -> None:
    """Refuse weights of another architecture or K before any is copied.

    mmengine's ``load_checkpoint`` (``strict=False``, as mmseg's
    ``init_model`` and the runner's ``load_from`` call it) only warns about
    parameters whose shapes differ and loads the rest: a checkpoint with
    another K or other widths would give a half-loaded model that
    segments nonsense without an error.

    Args:
        module (nn.Module): The model about to load ``state_dict``.
        state_dict (dict): The weights being loaded (keys under
            ``prefix``).
        prefix (str): The module's prefix in ``state_dict``.

    Raises:
        ValueError: Naming the first key (in the model's order) whose shape
            differs, with both shapes.
    """
    for name, own in module.state_dict().items():
        theirs = state_dict.get(prefix + name)
        if theirs is None or not hasattr(theirs, 'shape'):
            continue
        if tuple(theirs.shape) != tuple(own.shape):
            raise ValueError(
                f'checkpoint does not fit the model: {prefix + name} has '
                f'shape {tuple(theirs.shape)} in the checkpoint and '
                f'{tuple(own.shape)} in the model (the first mismatched '
                'key). The checkpoint was trained with another architecture '
                'or number of regions K: use the config it was trained with '
                '(its meta["cfg"] holds it)')
