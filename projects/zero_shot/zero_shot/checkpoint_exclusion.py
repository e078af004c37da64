# Copyright (c) mmfactdiff contributors. All rights reserved.
from torch import nn


def keep_out_of_checkpoints(parent: nn.Module, name: str) -> None:
    """Leave ``parent``'s frozen submodule ``name``, whose weights come
    from a file of its own, out of ``parent``'s checkpoints.

    Saving ``parent`` drops the submodule's weights; loading a checkpoint
    into ``parent`` puts back the submodule's current ones first (so none
    is reported missing, and none in the file replaces them). The
    submodule's own ``state_dict`` is unchanged. Used for the mask source
    of :class:`RegionClassifierSegmentor` and the CLIP image branch of
    :class:`ZegFormerSegmentor`.
    """
    key = f'{name}.'

    def drop(module: nn.Module, state_dict: dict, prefix: str, *args) -> None:
        for k in [k for k in state_dict if k.startswith(prefix + key)]:
            del state_dict[k]

    def keep(state_dict: dict, prefix: str, *args) -> None:
        for k, value in getattr(parent, name).state_dict().items():
            state_dict[prefix + key + k] = value

    parent._register_state_dict_hook(drop)
    parent._register_load_state_dict_pre_hook(keep)
