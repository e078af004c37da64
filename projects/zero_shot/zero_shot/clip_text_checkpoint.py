# Copyright (c) mmfactdiff contributors. All rights reserved.
"""OpenAI CLIP text-tower weights into mmseg's :class:`CLIPTextEncoder`."""
import re
from collections import OrderedDict
from typing import Dict

from torch import Tensor, nn

from mmfactdiff.utils import load_checkpoint_file

# OpenAI CLIP name (regex) -> mmseg CLIPTextEncoder name
_RULES = (
    (r'^transformer\.resblocks\.(\d+)\.ln_1\.', r'transformer.\1.norms.0.'),
    (r'^transformer\.resblocks\.(\d+)\.ln_2\.', r'transformer.\1.norms.1.'),
    (r'^transformer\.resblocks\.(\d+)\.attn\.',
     r'transformer.\1.attentions.0.attn.'),
    (r'^transformer\.resblocks\.(\d+)\.mlp\.c_fc\.',
     r'transformer.\1.ffns.0.layers.0.0.'),
    (r'^transformer\.resblocks\.(\d+)\.mlp\.c_proj\.',
     r'transformer.\1.ffns.0.layers.1.'),
    (r'^(token_embedding\.weight|positional_embedding|text_projection|'
     r'logit_scale|ln_final\.weight|ln_final\.bias)$', r'\1'),
)
# the image tower and the context metadata of the full CLIP file
_SKIP = re.compile(r'^(visual\.|input_resolution$|context_length$|'
                   r'vocab_size$)')


def clip_text_to_mmseg(state_dict: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """Rename the text tower of an OpenAI CLIP state dict to mmseg's names
    (the image tower, ``visual.*``, is dropped).

    Raises:
        KeyError: A key is neither CLIP's text tower nor its image tower.
    """
    out, unknown = OrderedDict(), []
    for key, value in state_dict.items():
        if _SKIP.match(key):
            continue
        for pattern, repl in _RULES:
            if re.match(pattern, key):
                out[re.sub(pattern, repl, key)] = value
                break
        else:
            unknown.append(key)
    if unknown:
        raise KeyError(f'clip_text_to_mmseg: {len(unknown)} keys are not '
                       f'CLIP\'s (e.g. {unknown[:3]}): is this an OpenAI '
                       'CLIP state dict?')
    return out


def load_clip_text_checkpoint(encoder: nn.Module, filename: str) -> None:
    """Load the text tower of a local OpenAI CLIP state dict file (see the
    project README for turning OpenAI's TorchScript release into one) into
    an mmseg ``CLIPTextEncoder``, through mmfactdiff's safe loader. Every
    weight of the encoder except its learned background embedding
    (``bg_embed``, not CLIP's) must be in the file.

    Raises:
        RuntimeError: A weight is missing or has another shape (the error
            names the file and the encoder settings to compare).
    """
    state = load_checkpoint_file(filename, map_location='cpu')
    if 'state_dict' in state and isinstance(state['state_dict'], dict):
        state = state['state_dict']
    converted = clip_text_to_mmseg(state)
    hint = ('compare embed_dims, num_layers, context_length and '
            'output_dims')
    try:
        result = encoder.load_state_dict(converted, strict=False)
    except RuntimeError as err:  # a shape that differs
        raise RuntimeError(f'{filename}: the CLIP text weights do not fit '
                           f'the encoder ({hint}): {err}') from err
    missing = [k for k in result.missing_keys if k != 'bg_embed']
    if missing or result.unexpected_keys:
        raise RuntimeError(
            f'{filename}: the CLIP text weights do not fit the encoder '
            f'(missing {missing[:3]}, unexpected '
            f'{result.unexpected_keys[:3]}): {hint}')
