# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/zero_shot: class embeddings from CLIP text weights (a tiny
generated OpenAI-style checkpoint, checked against an independent forward)
or from a file of class vectors."""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from mmseg.utils import tokenize

from projects.zero_shot.zero_shot import ClassEmbeddings

D, OUT, HEADS, LAYERS = 16, 8, 2, 2
TEMPLATES = ['a photo of a {}.', 'a drawing of a {}.']
NAMES = ['ellipse', 'striped square']


def _clip_state(seed=0):
    gen = torch.Generator().manual_seed(seed)

    def r(*shape, s=0.2):
        return torch.randn(*shape, generator=gen) * s

    sd = {
        'token_embedding.weight': r(49408, D),
        'positional_embedding': r(77, D, s=0.05),
        'text_projection': r(D, OUT),
        'logit_scale': torch.tensor(4.6),
        'ln_final.weight': 1 + r(D),
        'ln_final.bias': r(D),
        'visual.conv1.weight': r(4, 3, 2, 2),  # the image tower: skipped
    }
    for i in range(LAYERS):
        p = f'transformer.resblocks.{i}.'
        sd.update({
            p + 'ln_1.weight': 1 + r(D),
            p + 'ln_1.bias': r(D),
            p + 'attn.in_proj_weight': r(3 * D, D),
            p + 'attn.in_proj_bias': r(3 * D),
            p + 'attn.out_proj.weight': r(D, D),
            p + 'attn.out_proj.bias': r(D),
            p + 'ln_2.weight': 1 + r(D),
            p + 'ln_2.bias': r(D),
            p + 'mlp.c_fc.weight': r(4 * D, D),
            p + 'mlp.c_fc.bias': r(4 * D),
            p + 'mlp.c_proj.weight': r(D, 4 * D),
            p + 'mlp.c_proj.bias': r(D),
        })
    return sd


def _clip_text(sd, text):
    """CLIP's text forward, written from its definition."""
    x = sd['token_embedding.weight'][text] + sd['positional_embedding']
    n, length, _ = x.shape
    mask = torch.full((length, length), float('-inf')).triu(1)
    for i in range(LAYERS):
        p = f'transformer.resblocks.{i}.'
        y = F.layer_norm(x, (D, ), sd[p + 'ln_1.weight'], sd[p + 'ln_1.bias'])
        q, k, v = F.linear(y, sd[p + 'attn.in_proj_weight'],
                           sd[p + 'attn.in_proj_bias']).chunk(
                               3, dim=-1)

        def heads(t):
            return t.view(n, length, HEADS, D // HEADS).transpose(1, 2)

        att = (heads(q) @ heads(k).transpose(-2, -1) * (D // HEADS)**-0.5 +
               mask).softmax(-1)
        y = (att @ heads(v)).transpose(1, 2).reshape(n, length, D)
        x = x + F.linear(y, sd[p + 'attn.out_proj.weight'],
                         sd[p + 'attn.out_proj.bias'])
        y = F.layer_norm(x, (D, ), sd[p + 'ln_2.weight'], sd[p + 'ln_2.bias'])
        y = F.linear(y, sd[p + 'mlp.c_fc.weight'], sd[p + 'mlp.c_fc.bias'])
        y = y * torch.sigmoid(1.702 * y)  # QuickGELU
        x = x + F.linear(y, sd[p + 'mlp.c_proj.weight'],
                         sd[p + 'mlp.c_proj.bias'])
    x = F.layer_norm(x, (D, ), sd['ln_final.weight'], sd['ln_final.bias'])
    x = x[torch.arange(n), text.argmax(-1)] @ sd['text_projection']
    return F.normalize(x, dim=-1)


def _encoder_cfg():
    return dict(
        type='CLIPTextEncoder',
        templates=TEMPLATES,
        embed_dims=D,
        num_layers=LAYERS,
        num_heads=HEADS,
        output_dims=OUT)


def test_clip_embeddings_match_clip(tmp_path):
    init_default_scope('mmseg')
    sd = _clip_state()
    path = str(tmp_path / 'clip_tiny.pth')
    torch.save(sd, path)
    module = MODELS.build(
        dict(
            type='ClassEmbeddings',
            class_names=NAMES,
            text_encoder=_encoder_cfg(),
            clip_checkpoint=path))
    assert isinstance(module, ClassEmbeddings)
    module.init_weights()
    got = module()
    want = torch.stack([
        _clip_text(sd, tokenize([t.format(c) for c in NAMES]))
        for t in TEMPLATES
    ]).mean(0)
    assert got.shape == (2, OUT)
    assert torch.allclose(got, F.normalize(want, dim=-1), atol=1e-5)
    # the embeddings travel in the state dict: a test needs no CLIP
    assert torch.equal(module.state_dict()['embeddings'], got)


def test_clip_file_of_another_architecture_is_named(tmp_path):
    init_default_scope('mmseg')
    sd = _clip_state()
    path = str(tmp_path / 'clip_tiny.pth')
    torch.save(sd, path)
    cfg = dict(_encoder_cfg(), output_dims=OUT * 2)
    module = ClassEmbeddings(NAMES, text_encoder=cfg, clip_checkpoint=path)
    with pytest.raises(RuntimeError, match='clip_tiny.pth.*output_dims'):
        module.init_weights()
    torch.save({'fc.weight': torch.zeros(1)}, path)
    module = ClassEmbeddings(
        NAMES, text_encoder=_encoder_cfg(), clip_checkpoint=path)
    with pytest.raises(KeyError, match='not CLIP'):
        module.init_weights()


def test_vector_files(tmp_path):
    table = np.array([[3., 4.], [0., 2.]], np.float32)
    npy = tmp_path / 'v.npy'
    np.save(npy, table)
    got = ClassEmbeddings(NAMES, vectors=str(npy))()
    assert torch.allclose(got, torch.tensor([[0.6, 0.8], [0., 1.]]))
    js = tmp_path / 'v.json'
    js.write_text(json.dumps({'striped square': [0, 2], 'ellipse': [3, 4]}))
    assert torch.allclose(ClassEmbeddings(NAMES, vectors=str(js))(), got)
    js.write_text(json.dumps({'ellipse': [3, 4]}))
    with pytest.raises(KeyError, match='striped square'):
        ClassEmbeddings(NAMES, vectors=str(js))
    np.save(npy, np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match='zero or not finite'):
        ClassEmbeddings(NAMES, vectors=str(npy))
    np.save(npy, table[:1])
    with pytest.raises(ValueError, match=r'expected \(2, D\)'):
        ClassEmbeddings(NAMES, vectors=str(npy))


def test_exactly_one_source():
    with pytest.raises(ValueError, match='exactly one source'):
        ClassEmbeddings(NAMES)
    with pytest.raises(ValueError, match='clip_checkpoint'):
        ClassEmbeddings(NAMES, text_encoder=_encoder_cfg())


def test_the_synthetic_kinds_attribute_file_loads():
    from conftest import REPO_ROOT
    path = (f'{REPO_ROOT}/projects/zero_shot/data/'
            'synthetic_kinds_attributes.json')
    classes = ['background', 'ellipse', 'rectangle', 'triangle', 'star']
    table = ClassEmbeddings(classes, vectors=path)()
    assert table.shape == (5, 6)
    # every class is told apart from every other by its attributes
    sim = table @ table.t()
    assert (sim - torch.eye(5)).max() < 0.99
