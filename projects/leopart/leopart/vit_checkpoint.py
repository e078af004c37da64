# Copyright (c) mmfactdiff contributors. All rights reserved.
"""DINO and Leopart ViT checkpoints (timm key names) into mmseg's
:class:`VisionTransformer` (and :class:`LeopartHead`)."""
import math
import re
from collections import OrderedDict
from typing import Dict, Optional, Tuple

from mmseg.models.backbones import VisionTransformer
from torch import Tensor, nn

from mmfactdiff.utils import load_checkpoint_file

# timm / DINO name (regex) -> mmseg VisionTransformer name
_RULES = (
    (r'^patch_embed\.proj\.', 'patch_embed.projection.'),
    (r'^blocks\.(\d+)\.norm1\.', r'layers.\1.ln1.'),
    (r'^blocks\.(\d+)\.norm2\.', r'layers.\1.ln2.'),
    (r'^blocks\.(\d+)\.attn\.qkv\.weight$',
     r'layers.\1.attn.attn.in_proj_weight'),
    (r'^blocks\.(\d+)\.attn\.qkv\.bias$', r'layers.\1.attn.attn.in_proj_bias'),
    (r'^blocks\.(\d+)\.attn\.proj\.', r'layers.\1.attn.attn.out_proj.'),
    (r'^blocks\.(\d+)\.mlp\.fc1\.', r'layers.\1.ffn.layers.0.0.'),
    (r'^blocks\.(\d+)\.mlp\.fc2\.', r'layers.\1.ffn.layers.1.'),
    (r'^norm\.', 'ln1.'),
    (r'^(cls_token|pos_embed)$', r'\1'),
)
HEAD_PREFIXES = ('projection_head.', 'prototypes.')


def timm_vit_to_mmseg(state_dict: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """Rename a timm/DINO ViT state dict to mmseg's names.

    Raises:
        KeyError: A key matches no rule (named, with the first few others).
    """
    out = OrderedDict()
    unknown = []
    for key, value in state_dict.items():
        for pattern, repl in _RULES:
            if re.match(pattern, key):
                out[re.sub(pattern, repl, key)] = value
                break
        else:
            unknown.append(key)
    if unknown:
        raise KeyError(f'timm_vit_to_mmseg: {len(unknown)} keys are not a '
                       f'ViT\'s (e.g. {unknown[:3]}): is this a DINO or '
                       'Leopart ViT checkpoint?')
    return out


def split_leopart_checkpoint(
        checkpoint: dict) -> Tuple[Dict[str, Tensor], Dict[str, Tensor]]:
    """The backbone and head weights of a DINO or Leopart file.

    A DINO release is the backbone's state dict itself; a training
    checkpoint of DINO keeps the networks under ``teacher``/``student``
    (the teacher is read, as DINO evaluates it); a Leopart (Lightning)
    checkpoint keeps its student under ``state_dict`` with the prefix
    ``model.`` (and its EMA teacher under ``teacher.``, not read).

    Returns:
        tuple[dict, dict]: Backbone (timm names) and head
        (``projection_head.*``, ``prototypes.*``) weights.
    """
    state = checkpoint
    if 'state_dict' in state and isinstance(state['state_dict'], dict):
        state = state['state_dict']
    elif 'teacher' in state and isinstance(state['teacher'], dict):
        state = state['teacher']
    for prefix in ('model.', 'module.', 'backbone.'):
        if any(k.startswith(prefix) for k in state):
            state = {
                k[len(prefix):]: v
                for k, v in state.items() if k.startswith(prefix)
            }
    backbone, head = OrderedDict(), OrderedDict()
    for key, value in state.items():
        if key.startswith(HEAD_PREFIXES):
            head[key] = value
        elif not key.startswith('head.'):  # DINO's own projection head
            backbone[key] = value
    return backbone, head


def load_vit_checkpoint(backbone: VisionTransformer,
                        filename: str,
                        head: Optional[nn.Module] = None) -> None:
    """Load a DINO or Leopart ViT file (timm names) into mmseg's ViT.

    The file is read by mmfactdiff's safe loader (tensors and plain
    containers only unless trusted). Every backbone weight must be in the
    file (a missing or unexpected key, or a shape that differs, raises and
    names it); the position embedding is resized (mmseg's
    ``resize_pos_embed``) when the file's patch grid differs from the
    model's. With ``head``, the file's ``projection_head.*`` and
    ``prototypes.*`` (a Leopart checkpoint) are loaded into it too.
    """
    backbone_sd, head_sd = split_leopart_checkpoint(
        load_checkpoint_file(filename, map_location='cpu'))
    converted = timm_vit_to_mmseg(backbone_sd)
    pos = converted.get('pos_embed')
    own = backbone.pos_embed
    if pos is not None and pos.shape != own.shape:
        old = int(math.isqrt(pos.shape[1] - 1))
        new = int(math.isqrt(own.shape[1] - 1))
        if old * old != pos.shape[1] - 1 or new * new != own.shape[1] - 1:
            raise ValueError(f'{filename}: pos_embed {tuple(pos.shape)} is '
                             'not a square grid plus a class token')
        converted['pos_embed'] = VisionTransformer.resize_pos_embed(
            pos, (new, new), (old, old), backbone.interpolate_mode)
    try:
        backbone.load_state_dict(converted, strict=True)
    except RuntimeError as err:
        raise RuntimeError(
            f'{filename}: the ViT weights do not fit the '
            'backbone config (embed_dims, num_layers, '
            f'patch_size, qkv_bias, patch_bias): {err}') from err
    if head is not None:
        if not head_sd:
            raise KeyError(f'{filename}: no projection_head/prototypes '
                           'weights (a DINO file has none: leave '
                           'load_head=False)')
        result = head.load_state_dict(head_sd, strict=False)
        # the queue is training state, not a weight
        missing = [k for k in result.missing_keys if k != 'queue']
        if missing or result.unexpected_keys:
            raise KeyError(f'{filename}: the head weights do not fit '
                           f'LeopartHead (missing {missing}, unexpected '
                           f'{result.unexpected_keys})')
