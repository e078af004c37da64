# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Optional

from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS
from torch import nn


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SubmoduleOptimWrapperConstructor:
    """One optimizer wrapper per named submodule, as an ``OptimWrapperDict``
    (for models that step their parts separately in ``train_step``, e.g.
    PADing's generator and classifier).

    Each key of ``optim_wrapper_cfg`` names a submodule (an attribute of
    the model, dotted paths allowed) and holds an ordinary optim wrapper
    config, built by mmengine's ``DefaultOptimWrapperConstructor`` over
    that submodule's parameters. Parameters of no named submodule are not
    optimized. ::

        optim_wrapper = dict(
            constructor='SubmoduleOptimWrapperConstructor',
            generator=dict(type='OptimWrapper',
                           optimizer=dict(type='Adam', lr=5e-4)),
            classifier=dict(type='OptimWrapper',
                            optimizer=dict(type='SGD', lr=1e-3)))

    Args:
        optim_wrapper_cfg (dict): Submodule name -> optim wrapper config
            (each may hold its own ``paramwise_cfg``).
        paramwise_cfg (dict, optional): Must be None: give each submodule's
            ``paramwise_cfg`` in its own config.
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        if paramwise_cfg is not None:
            raise ValueError(
                'SubmoduleOptimWrapperConstructor: set paramwise_cfg inside '
                'each submodule\'s optim wrapper config, not at the top')
        if not optim_wrapper_cfg:
            raise ValueError('SubmoduleOptimWrapperConstructor: '
                             'optim_wrapper names no submodule')
        for name, cfg in optim_wrapper_cfg.items():
            if not isinstance(cfg, dict) or 'optimizer' not in cfg:
                raise TypeError(
                    f'SubmoduleOptimWrapperConstructor: optim_wrapper.{name} '
                    'must be an optim wrapper config with an optimizer')
        self.optim_wrapper_cfg = optim_wrapper_cfg

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        model = getattr(model, 'module', model)  # DDP-wrapped
        wrappers = {}
        for name, cfg in self.optim_wrapper_cfg.items():
            module = model
            for part in name.split('.'):
                if not hasattr(module, part):
                    raise AttributeError(
                        f'SubmoduleOptimWrapperConstructor: optim_wrapper.'
                        f'{name}: {type(model).__name__} has no submodule '
                        f'{name!r}')
                module = getattr(module, part)
            cfg = dict(cfg)
            paramwise = cfg.pop('paramwise_cfg', None)
            wrappers[name] = DefaultOptimWrapperConstructor(cfg, paramwise)(
                module)
        return OptimWrapperDict(**wrappers)
