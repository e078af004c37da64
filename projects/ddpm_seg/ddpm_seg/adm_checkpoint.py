# Copyright (c) mmfactdiff contributors. All rights reserved.
"""guided-diffusion (ADM) weights in :class:`ADMUNet`.

ADM's ``.pt`` files are flat state dicts with the key names of its
``UNetModel`` (``time_embed.*``, ``input_blocks.*``, ``middle_block.*``,
``output_blocks.*``, ``out.*``). :class:`ADMUNet` has ADM's blocks at
the same indices (its input half is mmfactdiff's encoder, whose stem is
ADM's ``input_blocks.0``), so converting is renaming the layers inside a
block and, for ADM's default attention (``QKVAttentionLegacy``, heads
split before q, k, v), reordering the rows of the qkv projection.
"""
import re
from typing import Dict, Mapping

import torch
import torch.nn as nn
from torch import Tensor

from mmfactdiff.models import (Downsample, SpatialSelfAttention,
                               TimestepResBlock, Upsample)
from mmfactdiff.utils import load_checkpoint_file
from .adm_resample_res_block import ADMResampleResBlock

#: layer names inside a block: this package's -> ADM's
RES_BLOCK_NAMES = {
    'in_layers.0': 'in_layers.0',
    'in_layers.2': 'in_layers.2',
    'emb_proj.1': 'emb_layers.1',
    'out_norm': 'out_layers.0',
    'out_layers.2': 'out_layers.3',
    'skip': 'skip_connection',
}
RESAMPLE_RES_BLOCK_NAMES = {
    'in_layers.0': 'in_layers.0',
    'in_layers.3': 'in_layers.2',
    'emb_proj.1': 'emb_layers.1',
    'out_norm': 'out_layers.0',
    'out_layers.2': 'out_layers.3',
    'skip.1': 'skip_connection',
}
ATTENTION_NAMES = {'norm': 'norm', 'qkv': 'qkv', 'proj': 'proj_out'}
RESAMPLE_NAMES = {'op': 'op', 'conv': 'conv'}
#: whole modules outside the blocks: this package's -> ADM's
TOP_LEVEL_NAMES = {
    'encoder.time_embedding.mlp': 'time_embed',
    'encoder.time_embedding.label_embedding': 'label_emb',
    'encoder.stem': 'input_blocks.0.0',
    'out': 'out',
}
#: blocks: the pattern of this package's keys, and a function of the
#: pattern's indices giving the block's path and ADM's prefix for it
_BLOCKS = (
    (re.compile(r'^encoder\.input_blocks\.(\d+)\.(\d+)\.(.+)$'), lambda i, j:
     (f'encoder.input_blocks.{i}.{j}', f'input_blocks.{int(i) + 1}.{j}')),
    (re.compile(r'^encoder\.middle_block\.(\d+)\.(.+)$'), lambda i:
     (f'encoder.middle_block.{i}', f'middle_block.{i}')),
    (re.compile(r'^output_blocks\.(\d+)\.(\d+)\.(.+)$'), lambda i, j:
     (f'output_blocks.{i}.{j}', f'output_blocks.{i}.{j}')),
)


def _block_names(module: nn.Module) -> Mapping[str, str]:
    if isinstance(module, ADMResampleResBlock):
        return RESAMPLE_RES_BLOCK_NAMES
    if isinstance(module, TimestepResBlock):
        return RES_BLOCK_NAMES
    if isinstance(module, SpatialSelfAttention):
        return ATTENTION_NAMES
    if isinstance(module, (Downsample, Upsample)):
        return RESAMPLE_NAMES
    raise TypeError(f'no ADM name for a {type(module).__name__}')


def _rename(local: str, names: Mapping[str, str]) -> str:
    layer, _, param = local.rpartition('.')
    if layer not in names:
        raise KeyError(f'no ADM name for layer {layer!r}')
    return f'{names[layer]}.{param}'


def adm_key_map(model: nn.Module) -> Dict[str, str]:
    """ADM's key for every key of an :class:`ADMUNet`'s state dict.

    Args:
        model (ADMUNet): The model.

    Returns:
        dict: ``{model key: ADM key}``, in the model's order.
    """
    mapping = {}
    for key in model.state_dict():
        for ours, theirs in TOP_LEVEL_NAMES.items():
            if key.startswith(ours + '.'):
                mapping[key] = theirs + key[len(ours):]
                break
        else:
            for pattern, paths in _BLOCKS:
                match = pattern.match(key)
                if match is not None:
                    *index, local = match.groups()
                    path, prefix = paths(*index)
                    names = _block_names(model.get_submodule(path))
                    mapping[key] = f'{prefix}.{_rename(local, names)}'
                    break
            else:
                raise KeyError(f'no ADM name for {key!r}')
    return mapping


def legacy_qkv_to_split_first(weight: Tensor, num_heads: int) -> Tensor:
    """Reorder a qkv projection's output rows from ADM's legacy layout
    (per head: q, k, v) to q, k, v each holding all heads (the layout of
    :class:`SpatialSelfAttention` and ADM's ``QKVAttention``).

    Args:
        weight (Tensor): Weight (3C, C, 1) or bias (3C, ).
        num_heads (int): Attention heads.

    Returns:
        Tensor: The same values, rows reordered.
    """
    rows = weight.shape[0]
    if rows % (3 * num_heads):
        raise ValueError(f'a qkv projection with {rows} rows cannot hold '
                         f'q, k and v for {num_heads} heads')
    per_head = weight.reshape(num_heads, 3, rows // (3 * num_heads),
                              *weight.shape[1:])
    return per_head.transpose(0, 1).reshape(weight.shape)


def convert_adm_state_dict(state_dict: Mapping[str, Tensor],
                           model: nn.Module,
                           source: str = 'the checkpoint') -> dict:
    """Rename (and reorder) ADM weights into the model's state dict.

    Args:
        state_dict (Mapping[str, Tensor]): ADM's weights.
        model (ADMUNet): The model they are for (its architecture must be
            the checkpoint's).
        source (str): Name of the weights' file, for the errors.

    Returns:
        dict: The model's state dict, complete.

    Raises:
        KeyError: A key the model needs is missing (named, with the
            model's key), or the checkpoint has keys the model lacks.
        ValueError: A tensor's shape differs (its key, both shapes).
    """
    mapping = adm_key_map(model)
    own = model.state_dict()
    hint = ('the model is not built as the checkpoint was trained: compare '
            'the ADMUNet arguments (model_channels, channel_mult, '
            'num_res_blocks, attention_resolutions, resblock_updown, '
            'learn_sigma -> out_channels, num_classes) with its MODEL_FLAGS')
    converted = {}
    for key, adm_key in mapping.items():
        if adm_key not in state_dict:
            raise KeyError(f'{source} has no {adm_key!r} (for the model\'s '
                           f'{key!r}): {hint}')
        value = state_dict[adm_key]
        if tuple(value.shape) != tuple(own[key].shape):
            raise ValueError(
                f'{source}: {adm_key!r} has shape {tuple(value.shape)}, the '
                f'model\'s {key!r} has {tuple(own[key].shape)}: {hint}')
        layer = key.rpartition('.')[0]
        if layer.endswith('.qkv') and not model.use_new_attention_order:
            attention = model.get_submodule(layer[:-len('.qkv')])
            value = legacy_qkv_to_split_first(value, attention.num_heads)
        converted[key] = value.to(own[key].dtype)
    extra = sorted(set(state_dict) - set(mapping.values()))
    if extra:
        note = ('label_emb.weight: a class-conditional model, set '
                'num_classes; ' if 'label_emb.weight' in extra else '')
        raise KeyError(f'{source} has {len(extra)} key(s) the model does not '
                       f'have, e.g. {extra[:3]}: {note}{hint}')
    return converted


def load_adm_checkpoint(model: nn.Module, filename: str) -> None:
    """Load a guided-diffusion ``.pt`` file into an :class:`ADMUNet`.

    The file is read by mmfactdiff's safe loader (tensors only unless
    trusted, :func:`mmfactdiff.utils.load_checkpoint_file`). A dict with a
    ``state_dict`` entry is also accepted.

    Args:
        model (ADMUNet): The model.
        filename (str): Path of the ``.pt`` file.
    """
    state = load_checkpoint_file(filename, map_location='cpu')
    if isinstance(state, dict) and isinstance(state.get('state_dict'), dict):
        state = state['state_dict']
    converted = convert_adm_state_dict(state, model, source=filename)
    with torch.no_grad():
        model.load_state_dict(converted, strict=True)
