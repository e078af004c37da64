# Copyright (c) mmfactdiff contributors. All rights reserved.
"""OpenAI CLIP image-tower weights into mmseg's :class:`VisionTransformer`
(the naming of mmseg's ``tools/model_converters/clip2mmseg.py``)."""
import re
from collections import OrderedDict
from typing import Dict, Tuple

from torch import Tensor

from mmfactdiff.utils import load_checkpoint_file

# OpenAI CLIP visual name (regex, after 'visual.') -> mmseg ViT name
_RULES = (
    (r'^conv1\.weight$', r'patch_embed.projection.weight'),
    (r'^class_embedding$', r'cls_token'),
    (r'^positional_embedding$', r'pos_embed'),
    (r'^ln_pre\.', r'ln_pre.'),
    (r'^ln_post\.', r'ln1.'),
    (r'^transformer\.resblocks\.(\d+)\.ln_1\.', r'layers.\1.ln1.'),
    (r'^transformer\.resblocks\.(\d+)\.ln_2\.', r'layers.\1.ln2.'),
    (r'^transformer\.resblocks\.(\d+)\.attn\.', r'layers.\1.attn.attn.'),
    (r'^transformer\.resblocks\.(\d+)\.mlp\.c_fc\.',
     r'layers.\1.ffn.layers.0.0.'),
    (r'^transformer\.resblocks\.(\d+)\.mlp\.c_proj\.',
     r'layers.\1.ffn.layers.1.'),
)


def clip_visual_to_mmseg(
        state_dict: Dict[str,
                         Tensor]) -> Tuple[Dict[str, Tensor], Tensor, Tensor]:
    """Split an OpenAI CLIP state dict's image tower into mmseg
    ``VisionTransformer`` weights (``pre_norm=True``, ``final_norm=True``,
    ``patch_bias=False``), the image projection (width, output dims) and
    the logit scale (a log; CLIP multiplies cosines by its exp).

    Raises:
        KeyError: The dict has no image tower, or a ``visual.*`` key that
            is not CLIP's.
    """
    vit, unknown = OrderedDict(), []
    proj = logit_scale = None
    for key, value in state_dict.items():
        if key == 'logit_scale':
            logit_scale = value
        if not key.startswith('visual.'):
            continue
        name = key[len('visual.'):]
        if name == 'proj':
            proj = value
            continue
        for pattern, repl in _RULES:
            if re.match(pattern, name):
                new = re.sub(pattern, repl, name)
                if new == 'cls_token':
                    value = value.reshape(1, 1, -1)
                elif new == 'pos_embed':
                    value = value.unsqueeze(0)
                vit[new] = value
                break
        else:
            unknown.append(key)
    if unknown:
        raise KeyError(f'clip_visual_to_mmseg: {len(unknown)} visual keys '
                       f'are not CLIP ViT\'s (e.g. {unknown[:3]}); CLIP\'s '
                       'ResNet image towers are not supported')
    if proj is None or logit_scale is None or not vit:
        raise KeyError('clip_visual_to_mmseg: no CLIP image tower (visual.*'
                       ', visual.proj) or no logit_scale in the state dict')
    return vit, proj, logit_scale


def load_clip_image_checkpoint(
        filename: str) -> Tuple[Dict[str, Tensor], Tensor, Tensor]:
    """Read a local OpenAI CLIP state dict file (see the project README)
    through mmfactdiff's safe loader and convert its image tower
    (:func:`clip_visual_to_mmseg`)."""
    state = load_checkpoint_file(filename, map_location='cpu')
    if 'state_dict' in state and isinstance(state['state_dict'], dict):
        state = state['state_dict']
    try:
        return clip_visual_to_mmseg(state)
    except KeyError as err:
        raise KeyError(f'{filename}: {err}') from err
