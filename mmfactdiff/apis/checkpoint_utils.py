# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Union

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

WEIGHT_CHOICES = ('ema', 'raw')


def load_weights(model: torch.nn.Module,
                 checkpoint: str,
                 weights: str = 'ema') -> dict:
    """Load a training checkpoint into ``model``.

    mmengine's ``EMAHook`` stores the averaged weights beside the raw ones
    (``ema_state_dict``, keys prefixed ``module.``); evaluation and sampling
    should use them, as ``tools/test.py`` does through the hook.

    Args:
        model (nn.Module): The model to load into.
        checkpoint (str): Path of a ``.pth`` written by ``tools/train.py``.
        weights (str): ``'ema'`` (the averaged weights; falls back to the
            raw ones, with a warning, if the checkpoint has none) or
            ``'raw'``. Defaults to 'ema'.

    Returns:
        dict: The loaded checkpoint (``meta`` etc.).
    """
    if weights not in WEIGHT_CHOICES:
        raise ValueError(f'weights must be one of {WEIGHT_CHOICES}, got '
                         f'{weights!r}')
    try:
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu')
    except Exception as e:  # corrupt or truncated files
        raise RuntimeError(f'cannot load checkpoint {checkpoint!r}: {e}') \
            from e
    if weights == 'ema':
        ema = ckpt.get('ema_state_dict')
        if ema is None:
            from mmengine.logging import print_log
            print_log(f'{checkpoint} has no EMA weights; using the raw ones',
                      logger='current', level=30)
        else:
            state = {
                k[len('module.'):]: v
                for k, v in ema.items() if k.startswith('module.')
            }
            model.load_state_dict(state, strict=True)
    return ckpt


def init_factdiff_model(config: Union[str, Config],
                        checkpoint: str = None,
                        device: str = 'cpu',
                        weights: str = 'ema') -> torch.nn.Module:
    """Build a model from a config and load a checkpoint's weights.

    Args:
        config (str | Config): Config path or object.
        checkpoint (str, optional): Checkpoint path. Defaults to None.
        device (str): Device. Defaults to 'cpu'.
        weights (str): ``'ema'`` or ``'raw'``. Defaults to 'ema'.

    Returns:
        nn.Module: The model in eval mode.
    """
    import mmfactdiff  # noqa: F401  (registers the modules)
    from mmseg.registry import MODELS
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    model.cfg = cfg
    if checkpoint is not None:
        load_weights(model, checkpoint, weights)
    return model.to(device).eval()
