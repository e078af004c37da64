# Copyright (c) mmfactdiff contributors. All rights reserved.
import copy
from typing import Optional

from mmengine.config import ConfigDict
from torch import nn

#: settings of the U-Net output half that the mask generator(s) and the
#: decoder share, stated once in the segmentor's ``trunk``
TRUNK_KEYS = ('channels', 'channel_mults', 'attention_strides', 'num_heads',
              'num_head_channels', 'use_scale_shift_norm', 'conv_resample',
              'num_groups', 'emb_act', 'zero_init_residual', 'block_width')

#: config keys of a head/decoder filled from these backbone attributes
_FROM_BACKBONE = (('in_channels', 'out_channels'),
                  ('in_strides', 'out_strides'), ('emb_channels',
                                                  'embedding_channels'))


def check_trunk(trunk: Optional[dict]) -> dict:
    """The segmentor's ``trunk`` settings, refusing keys that are not
    :data:`TRUNK_KEYS`."""
    trunk = dict(trunk or {})
    unknown = sorted(set(trunk) - set(TRUNK_KEYS))
    if unknown:
        raise ValueError(f'trunk: unknown keys {unknown}; allowed: '
                         f'{list(TRUNK_KEYS)}')
    return trunk


def fill_part_config(cfg: dict, trunk: dict,
                     backbone: nn.Module) -> ConfigDict:
    """A mask generator / decoder config with the shared trunk settings and
    the description of its inputs (widths, strides, embedding width) taken
    from the backbone where the config leaves them unset.

    Raises:
        ValueError: when a trunk key is also set in the part's config (each
            setting is stated once).
    """
    cfg = ConfigDict(copy.deepcopy(cfg))
    both = sorted(set(trunk) & set(cfg))
    if both:
        raise ValueError(
            f'{both} set both in trunk and in the {cfg.get("type")} config: '
            'state each trunk setting once (in trunk, or in every part)')
    cfg.update(copy.deepcopy(trunk))
    for key, attr in _FROM_BACKBONE:
        if cfg.get(key, None) is None and hasattr(backbone, attr):
            value = getattr(backbone, attr)
            cfg[key] = list(value) if isinstance(value, list) else value
    return cfg
