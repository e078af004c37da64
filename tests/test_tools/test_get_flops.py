# Copyright (c) mmfactdiff contributors. All rights reserved.
import json

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from conftest import load_tool
from mmseg.registry import MODELS

from tiny_configs import MAIN_CONFIG, TINY_OPTIONS
from tiny_models import tiny_segmentor

get_flops = load_tool('tools/analysis_tools/get_flops.py')


class _Attention(nn.Module):

    def forward(self, x):
        return F.scaled_dot_product_attention(x, x, x)


def test_attention_flops_are_counted():
    # (B=2, heads=3, L=10, d=4): q k^T and attn v, 2*3*10*10*4 each
    flops = get_flops.count_flops(_Attention(), torch.randn(2, 3, 10, 4))
    assert flops == 2 * (2 * 3 * 10 * 10 * 4)


def test_decoder_flops_grow_with_k_and_fast_path_skips_them():
    res = {}
    for k in (2, 3):
        model = MODELS.build(tiny_segmentor(num_regions=k))
        res[k] = get_flops.path_flops(model, (16, 16))
    # the fast path and the plain U-Net do not depend on K
    assert res[2]['fast']['flops'] < res[3]['fast']['flops'] * 1.01
    assert res[2]['plain']['flops'] == res[3]['plain']['flops']
    # full - fast = K decoder passes
    dec2 = res[2]['full']['flops'] - res[2]['fast']['flops']
    dec3 = res[3]['full']['flops'] - res[3]['fast']['flops']
    assert dec3 / dec2 == pytest.approx(1.5, rel=0.02)
    # DDPM-seg: three full plain U-Net passes (+ resizing the features)
    assert res[3]['ddpmseg']['flops'] == pytest.approx(
        3 * res[3]['plain']['flops'], rel=0.05)
    assert res[3]['ddpmseg']['flops'] >= 3 * res[3]['plain']['flops']
    # parameters: the decoder weights are shared across regions
    assert res[2]['full']['params'] == res[3]['full']['params'] - (
        res[3]['fast']['params'] - res[2]['fast']['params'])


def test_paths_run_what_they_claim():
    model = MODELS.build(tiny_segmentor(num_regions=3)).eval()
    x = torch.randn(2, 3, 16, 16)
    calls = []
    model.decoder.register_forward_hook(lambda *a: calls.append('decoder'))
    model.decode_head.register_forward_hook(lambda *a: calls.append('head'))
    with torch.no_grad():
        fast = get_flops.ForwardPath(model, 'fast')(x)
        assert calls == ['head'] and fast.shape == (2, 3, 16, 16)
        calls.clear()
        plain = get_flops.ForwardPath(model, 'plain')(x)
        assert calls == [] and plain.shape == (2, 3, 16, 16)
        full = get_flops.ForwardPath(model, 'full')(x)
        assert calls == ['head', 'decoder'] and full.shape == (2, 3, 16, 16)
        feats, eps = get_flops.ForwardPath(model, 'ddpmseg')(x)
    assert feats.shape[0] == 2 and feats.shape[-2:] == (16, 16)
    assert eps.shape == (3, 2, 3, 16, 16)
    with pytest.raises(ValueError, match='path'):
        get_flops.ForwardPath(model, 'nope')


def test_ddpmseg_blocks_follow_the_paper_positions():
    # guided-diffusion's 18 output blocks: DDPM-seg's own choice
    assert get_flops.ddpmseg_blocks(18) == [5, 6, 7, 8, 12]
    assert get_flops.ddpmseg_blocks(4) == [1, 2]


def test_cli_on_a_config(tmp_path, capsys):
    out = str(tmp_path / 'flops.json')
    opts = [
        f'{k}={v}' for k, v in TINY_OPTIONS.items() if k.startswith('model.')
    ]
    opts = [o.replace(' ', '') for o in opts]
    res = get_flops.main(
        [MAIN_CONFIG, '--shape', '16', '--json', out, '--cfg-options', *opts])
    printed = capsys.readouterr().out
    for path in get_flops.PATHS:
        assert path in res and res[path]['flops'] > 0
        assert f'{path}: Flops' in printed
    assert res['input_shape'] == [16, 16]
    with open(out) as f:
        assert json.load(f)['fast']['flops'] == res['fast']['flops']
