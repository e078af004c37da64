# Copyright (c) mmfactdiff contributors. All rights reserved.
__all__ = []
try:  # torch builds without torch.distributed have no FSDP
    from .resumable_fsdp_strategy import ResumableFSDPStrategy  # noqa: F401
    __all__.append('ResumableFSDPStrategy')
except ImportError:
    pass
