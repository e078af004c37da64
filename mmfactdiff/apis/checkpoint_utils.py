# Copyright (c) mmfactdiff contributors. All rights reserved.
from typing import Union

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from mmfactdiff.utils.safe_loading import UnsafeCheckpointError

WEIGHT_CHOICES = ('ema', 'raw')


def load_weights(model: torch.nn.Module,
                 checkpoint: str,
                 weights: str = 'ema',
                 strict: bool = False) -> dict:
    """Load a training checkpoint into ``model``.

    mmengine's ``EMAHook`` swaps the two copies when it saves: the
    checkpoint's ``state_dict`` holds the averaged (EMA) weights, ready for
    deployment, and ``ema_state_dict`` (keys prefixed ``module.``) holds the
    raw training weights. Evaluation and sampling should use the EMA
    weights, as ``tools/test.py`` and mmseg's ``init_model`` do.

    Args:
        model (nn.Module): The model to load into.
        checkpoint (str): Path of a ``.pth`` written by ``tools/train.py``.
        weights (str): ``'ema'`` (the averaged weights; a checkpoint
            written without ``EMAHook`` only has raw ones, which are used
            with a warning) or ``'raw'``. Defaults to 'ema'.
        strict (bool): Fail on missing or unexpected keys instead of
            warning (the ``'raw'`` copy always loads strictly). Defaults to
            False, as mmengine's ``load_checkpoint``.

    Returns:
        dict: The loaded checkpoint (``meta`` etc.).
    """
    if weights not in WEIGHT_CHOICES:
        raise ValueError(f'weights must be one of {WEIGHT_CHOICES}, got '
                         f'{weights!r}')
    try:
        ckpt = load_checkpoint(
            model, checkpoint, map_location='cpu', strict=strict)
    except UnsafeCheckpointError:
        raise  # its message names the file and the opt-in
    except Exception as e:  # corrupt or truncated files
        raise RuntimeError(f'cannot load checkpoint {checkpoint!r}: {e}') \
            from e
    swapped = ckpt.get('ema_state_dict')
    if swapped is None and weights == 'ema':
        from mmengine.logging import print_log
        print_log(
            f'{checkpoint} was saved without EMAHook: using its raw '
            'weights',
            logger='current',
            level=30)
    elif swapped is not None and weights == 'raw':
        state = {
            k[len('module.'):]: v
            for k, v in swapped.items() if k.startswith('module.')
        }
        model.load_state_dict(state, strict=True)
    return ckpt


def init_factdiff_model(config: Union[str, Config],
                        checkpoint: str = None,
                        device: str = 'cpu',
                        weights: str = 'ema',
                        strict: bool = False) -> torch.nn.Module:
    """Build a model from a config and load a checkpoint's weights.

    Args:
        config (str | Config): Config path or object.
        checkpoint (str, optional): Checkpoint path. Defaults to None.
        device (str): Device. Defaults to 'cpu'.
        weights (str): ``'ema'`` or ``'raw'``. Defaults to 'ema'.
        strict (bool): See :func:`load_weights`. Defaults to False.

    Returns:
        nn.Module: The model in eval mode.
    """
    from mmseg.registry import MODELS

    import mmfactdiff  # noqa: F401  (registers the modules)
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    model.cfg = cfg
    if checkpoint is not None:
        load_weights(model, checkpoint, weights, strict)
    return model.to(device).eval()
