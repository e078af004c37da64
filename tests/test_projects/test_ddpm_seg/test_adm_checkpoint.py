# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/ddpm_seg: guided-diffusion (ADM) weights in ADMUNet.

The expected key names, shapes and outputs are not taken from the code
under test: ``adm_layout`` below rebuilds the module list of
guided-diffusion's ``UNetModel.__init__`` (``guided_diffusion/unet.py``)
and ``adm_forward`` runs ADM's forward functionally from a state dict in
ADM's names, so a wrong rename, a swapped layer or a wrong qkv order
shows up as a missing key or a different output."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from projects.ddpm_seg.ddpm_seg import (ADMUNet, DiffusionFeatureBackbone,
                                        adm_key_map, convert_adm_state_dict,
                                        legacy_qkv_to_split_first,
                                        load_adm_checkpoint)

#: tiny ADM models (image 16, widths 32/64) covering the layer kinds
TINY_ADM = dict(
    image_size=16,
    model_channels=32,
    channel_mult=(1, 2),
    num_res_blocks=1,
    attention_resolutions=(8, ),
    num_head_channels=16,
    resblock_updown=True,
    out_channels=6,
    use_scale_shift_norm=True)
TINY_ADM_CONV_RESAMPLE = dict(
    TINY_ADM,
    attention_resolutions=(16, 8),
    num_head_channels=-1,
    num_heads=2,
    resblock_updown=False,
    conv_resample=True,
    use_scale_shift_norm=False,
    use_new_attention_order=True,
    out_channels=3)
TINY_ADM_POOL = dict(
    TINY_ADM_CONV_RESAMPLE,
    channel_mult=(1, 1, 2),
    num_res_blocks=2,
    conv_resample=False,
    use_new_attention_order=False)


def adm_layout(image_size=64,
               in_channels=3,
               model_channels=128,
               out_channels=3,
               num_res_blocks=2,
               attention_resolutions=(16, 8),
               channel_mult=(1, 2, 3, 4),
               conv_resample=True,
               num_heads=4,
               num_head_channels=-1,
               num_heads_upsample=-1,
               use_scale_shift_norm=True,
               resblock_updown=False,
               use_new_attention_order=False,
               **unused):
    """guided-diffusion's ``UNetModel`` as lists of layers per block."""
    ds_attention = [image_size // int(r) for r in attention_resolutions]
    heads_up = num_heads if num_heads_upsample == -1 else num_heads_upsample

    def heads(ch, n):
        return n if num_head_channels == -1 else ch // num_head_channels

    ch = input_ch = channel_mult[0] * model_channels
    input_blocks = [[('conv', in_channels, ch)]]
    chans = [ch]
    ds = 1
    for level, mult in enumerate(channel_mult):
        for _ in range(num_res_blocks):
            layers = [('res', ch, mult * model_channels, None)]
            ch = mult * model_channels
            if ds in ds_attention:
                layers.append(('attn', ch, heads(ch, num_heads)))
            input_blocks.append(layers)
            chans.append(ch)
        if level != len(channel_mult) - 1:
            input_blocks.append([('res', ch, ch,
                                  'down')] if resblock_updown else [(
                                      'down', ch, conv_resample)])
            chans.append(ch)
            ds *= 2
    middle = [('res', ch, ch, None), ('attn', ch, heads(ch, num_heads)),
              ('res', ch, ch, None)]
    output_blocks = []
    for level, mult in list(enumerate(channel_mult))[::-1]:
        for i in range(num_res_blocks + 1):
            layers = [('res', ch + chans.pop(), model_channels * mult, None)]
            ch = model_channels * mult
            if ds in ds_attention:
                layers.append(('attn', ch, heads(ch, heads_up)))
            if level and i == num_res_blocks:
                layers.append(('res', ch, ch,
                               'up') if resblock_updown else ('up', ch,
                                                              conv_resample))
                ds //= 2
            output_blocks.append(layers)
    return dict(
        input_blocks=input_blocks,
        middle_block=middle,
        output_blocks=output_blocks,
        model_channels=model_channels,
        out=(input_ch, out_channels),
        scale_shift=use_scale_shift_norm,
        legacy=not use_new_attention_order)


def adm_shapes(layout):
    """ADM's state dict keys and shapes for ``layout``."""
    mc = layout['model_channels']
    shapes = {
        'time_embed.0.weight': (4 * mc, mc),
        'time_embed.0.bias': (4 * mc, ),
        'time_embed.2.weight': (4 * mc, 4 * mc),
        'time_embed.2.bias': (4 * mc, ),
    }

    def add(prefix, layer):
        kind = layer[0]
        if kind == 'conv':
            _, cin, cout = layer
            shapes[f'{prefix}.weight'] = (cout, cin, 3, 3)
            shapes[f'{prefix}.bias'] = (cout, )
        elif kind == 'res':
            _, cin, cout, _ = layer
            emb_out = 2 * cout if layout['scale_shift'] else cout
            shapes.update({
                f'{prefix}.in_layers.0.weight': (cin, ),
                f'{prefix}.in_layers.0.bias': (cin, ),
                f'{prefix}.in_layers.2.weight': (cout, cin, 3, 3),
                f'{prefix}.in_layers.2.bias': (cout, ),
                f'{prefix}.emb_layers.1.weight': (emb_out, 4 * mc),
                f'{prefix}.emb_layers.1.bias': (emb_out, ),
                f'{prefix}.out_layers.0.weight': (cout, ),
                f'{prefix}.out_layers.0.bias': (cout, ),
                f'{prefix}.out_layers.3.weight': (cout, cout, 3, 3),
                f'{prefix}.out_layers.3.bias': (cout, ),
            })
            if cin != cout:
                shapes[f'{prefix}.skip_connection.weight'] = (cout, cin, 1, 1)
                shapes[f'{prefix}.skip_connection.bias'] = (cout, )
        elif kind == 'attn':
            ch = layer[1]
            shapes.update({
                f'{prefix}.norm.weight': (ch, ),
                f'{prefix}.norm.bias': (ch, ),
                f'{prefix}.qkv.weight': (3 * ch, ch, 1),
                f'{prefix}.qkv.bias': (3 * ch, ),
                f'{prefix}.proj_out.weight': (ch, ch, 1),
                f'{prefix}.proj_out.bias': (ch, ),
            })
        elif layer[2]:  # a down / up sampling layer with a conv
            ch, name = layer[1], 'op' if kind == 'down' else 'conv'
            shapes[f'{prefix}.{name}.weight'] = (ch, ch, 3, 3)
            shapes[f'{prefix}.{name}.bias'] = (ch, )

    for part in ('input_blocks', 'output_blocks'):
        for i, block in enumerate(layout[part]):
            for j, layer in enumerate(block):
                add(f'{part}.{i}.{j}', layer)
    for j, layer in enumerate(layout['middle_block']):
        add(f'middle_block.{j}', layer)
    input_ch, out_channels = layout['out']
    shapes.update({
        'out.0.weight': (input_ch, ),
        'out.0.bias': (input_ch, ),
        'out.2.weight': (out_channels, input_ch, 3, 3),
        'out.2.bias': (out_channels, ),
    })
    return shapes


def random_adm_weights(shapes, seed=0):
    """An ADM state dict with random values (norm weights near 1)."""
    gen = torch.Generator().manual_seed(seed)
    weights = {}
    for key, shape in shapes.items():
        value = torch.randn(shape, generator=gen)
        if len(shape) > 1:
            value = value / math.sqrt(math.prod(shape[1:]))
        elif ('norm' in key or 'layers.0' in key or key.startswith('out.0')) \
                and key.endswith('.weight'):
            value = 1 + 0.1 * value
        else:
            value = 0.1 * value
        weights[key] = value
    return weights


def adm_forward(sd, layout, x, t):
    """guided-diffusion's ``UNetModel.forward``, from ADM-named weights."""

    def norm(h, p):
        return F.group_norm(h, 32, sd[p + '.weight'], sd[p + '.bias'], 1e-5)

    def conv(h, p, **kwargs):
        return F.conv2d(h, sd[p + '.weight'], sd[p + '.bias'], **kwargs)

    def res(p, h, emb, updown):
        x_in = h
        h = F.silu(norm(h, p + '.in_layers.0'))
        if updown == 'down':
            h, x_in = F.avg_pool2d(h, 2), F.avg_pool2d(x_in, 2)
        elif updown == 'up':
            h = F.interpolate(h, scale_factor=2, mode='nearest')
            x_in = F.interpolate(x_in, scale_factor=2, mode='nearest')
        h = conv(h, p + '.in_layers.2', padding=1)
        e = F.linear(
            F.silu(emb), sd[p + '.emb_layers.1.weight'],
            sd[p + '.emb_layers.1.bias'])[..., None, None]
        if layout['scale_shift']:
            scale, shift = e.chunk(2, dim=1)
            h = norm(h, p + '.out_layers.0') * (1 + scale) + shift
        else:
            h = norm(h + e, p + '.out_layers.0')
        h = conv(F.silu(h), p + '.out_layers.3', padding=1)
        if p + '.skip_connection.weight' in sd:
            x_in = conv(x_in, p + '.skip_connection')
        return x_in + h

    def attention(p, h, n_heads):
        b, c, hh, ww = h.shape
        x_in = h.reshape(b, c, -1)
        qkv = F.conv1d(
            norm(x_in, p + '.norm'), sd[p + '.qkv.weight'],
            sd[p + '.qkv.bias'])
        length, ch = qkv.shape[-1], c // n_heads
        if layout['legacy']:  # QKVAttentionLegacy: heads, then q, k, v
            q, k, v = qkv.reshape(b * n_heads, 3 * ch, length).split(ch, 1)
        else:  # QKVAttention: q, k, v, then heads
            q, k, v = (
                z.reshape(b * n_heads, ch, length)
                for z in qkv.chunk(3, dim=1))
        scale = 1 / math.sqrt(math.sqrt(ch))
        w = torch.einsum('bct,bcs->bts', q * scale, k * scale).softmax(-1)
        a = torch.einsum('bts,bcs->bct', w, v).reshape(b, -1, length)
        out = F.conv1d(a, sd[p + '.proj_out.weight'], sd[p + '.proj_out.bias'])
        return (x_in + out).reshape(b, c, hh, ww)

    def block(p, layers, h, emb):
        for j, layer in enumerate(layers):
            q = f'{p}.{j}'
            if layer[0] == 'conv':
                h = conv(h, q, padding=1)
            elif layer[0] == 'res':
                h = res(q, h, emb, layer[3])
            elif layer[0] == 'attn':
                h = attention(q, h, layer[2])
            elif layer[0] == 'down':
                h = conv(h, q + '.op', stride=2, padding=1) if layer[2] \
                    else F.avg_pool2d(h, 2)
            else:
                h = F.interpolate(h, scale_factor=2, mode='nearest')
                h = conv(h, q + '.conv', padding=1) if layer[2] else h
        return h

    half = layout['model_channels'] // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half) / half)
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    emb = F.linear(
        F.silu(
            F.linear(emb, sd['time_embed.0.weight'], sd['time_embed.0.bias'])),
        sd['time_embed.2.weight'], sd['time_embed.2.bias'])
    hs, h = [], x
    for i, layers in enumerate(layout['input_blocks']):
        h = block(f'input_blocks.{i}', layers, h, emb)
        hs.append(h)
    h = block('middle_block', layout['middle_block'], h, emb)
    for i, layers in enumerate(layout['output_blocks']):
        h = block(f'output_blocks.{i}', layers, torch.cat([h, hs.pop()], 1),
                  emb)
    return conv(F.silu(norm(h, 'out.0')), 'out.2', padding=1)


def split_first_to_legacy(weight, num_heads):
    """The inverse reordering (q, k, v of all heads -> per head q, k, v)."""
    rows = weight.shape[0]
    return weight.reshape(3, num_heads, rows // (3 * num_heads),
                          *weight.shape[1:]).transpose(0,
                                                       1).reshape(weight.shape)


@pytest.mark.parametrize(
    'cfg', [TINY_ADM, TINY_ADM_CONV_RESAMPLE, TINY_ADM_POOL],
    ids=['resblock-updown', 'conv-resample', 'pool'])
def test_key_map_gives_guided_diffusions_names_and_shapes(cfg):
    model = ADMUNet(**cfg)
    mapping = adm_key_map(model)
    expected = adm_shapes(adm_layout(**cfg))
    # one ADM key per model key, every ADM key used once
    assert list(mapping) == list(model.state_dict())
    assert sorted(mapping.values()) == sorted(expected)
    own = model.state_dict()
    for key, adm_key in mapping.items():
        assert tuple(own[key].shape) == expected[adm_key], (key, adm_key)
    # ADM's GroupNorm32: 32 groups, PyTorch's default epsilon
    norms = [m for m in model.modules() if isinstance(m, nn.GroupNorm)]
    assert norms and all(m.eps == 1e-5 and m.num_groups == 32 for m in norms)


def test_key_map_hand_written_names():
    mapping = adm_key_map(ADMUNet(**TINY_ADM))
    adm_names = set(mapping.values())
    for name in [
            'time_embed.0.weight', 'time_embed.2.bias',
            'input_blocks.0.0.weight', 'input_blocks.1.0.in_layers.0.weight',
            'input_blocks.1.0.in_layers.2.weight',
            'input_blocks.1.0.emb_layers.1.weight',
            'input_blocks.1.0.out_layers.0.bias',
            'input_blocks.1.0.out_layers.3.weight',
            'input_blocks.2.0.in_layers.2.weight',
            'input_blocks.3.0.skip_connection.weight',
            'input_blocks.3.1.qkv.weight', 'input_blocks.3.1.proj_out.bias',
            'middle_block.0.emb_layers.1.bias', 'middle_block.1.norm.weight',
            'middle_block.2.out_layers.3.bias',
            'output_blocks.0.0.skip_connection.weight',
            'output_blocks.1.1.qkv.bias',
            'output_blocks.1.2.in_layers.2.weight',
            'output_blocks.3.0.out_layers.3.weight', 'out.0.weight',
            'out.2.weight', 'out.2.bias'
    ]:
        assert name in adm_names, name
    assert mapping['encoder.stem.weight'] == 'input_blocks.0.0.weight'
    assert mapping['encoder.time_embedding.mlp.2.weight'] == \
        'time_embed.2.weight'


@pytest.mark.parametrize(
    'cfg', [TINY_ADM, TINY_ADM_CONV_RESAMPLE],
    ids=['legacy-attention', 'new-attention-order'])
def test_adm_weights_give_guided_diffusions_output(cfg, tmp_path):
    layout = adm_layout(**cfg)
    sd = random_adm_weights(adm_shapes(layout))
    path = str(tmp_path / 'adm.pt')
    torch.save(sd, path)
    model = ADMUNet(**cfg).eval()
    load_adm_checkpoint(model, path)
    x = torch.randn(2, 3, 16, 16)
    t = torch.tensor([3, 700])
    with torch.no_grad():
        ours = model(x, t)
        theirs = adm_forward(sd, layout, x, t)
    assert ours.shape == (2, cfg['out_channels'], 16, 16)
    assert theirs.abs().mean() > 0.1
    torch.testing.assert_close(ours, theirs, atol=1e-4, rtol=1e-4)


def test_round_trip_through_adm_names_and_the_backbone(tmp_path):
    source = ADMUNet(**TINY_ADM).eval()
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():  # no zero-initialised layer left
        for p in source.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen))
    adm = {}
    for key, adm_key in adm_key_map(source).items():
        value = source.state_dict()[key]
        if key.endswith(('.qkv.weight', '.qkv.bias')):
            heads = source.get_submodule(key.rsplit('.', 2)[0]).num_heads
            value = split_first_to_legacy(value, heads)
        adm[adm_key] = value.clone()
    path = str(tmp_path / 'adm_roundtrip.pt')
    torch.save(adm, path)
    backbone = DiffusionFeatureBackbone(
        unet=dict(type='ADMUNet', **TINY_ADM),
        img_size=16,
        blocks=(1, 3),
        steps=(10, 500),
        checkpoint=path)
    before = backbone.unet(torch.zeros(1, 3, 16, 16), 5).clone()
    backbone.init_weights()
    x = torch.randn(2, 3, 16, 16)
    t = torch.tensor([10, 999])
    with torch.no_grad():
        expected = source(x, t)
        loaded = backbone.unet(x, t)
    assert torch.equal(loaded, expected)
    assert not torch.equal(before, backbone.unet(torch.zeros(1, 3, 16, 16), 5))
    assert not any(p.requires_grad for p in backbone.unet.parameters())
    # a dict with a state_dict entry (a training checkpoint) loads too
    torch.save(dict(state_dict=adm, meta=dict()), path)
    fresh = ADMUNet(**TINY_ADM).eval()
    load_adm_checkpoint(fresh, path)
    with torch.no_grad():
        assert torch.equal(fresh(x, t), expected)


def _adm_file(tmp_path, cfg=TINY_ADM, edit=None):
    sd = random_adm_weights(adm_shapes(adm_layout(**cfg)))
    if edit:
        edit(sd)
    path = str(tmp_path / 'edited.pt')
    torch.save(sd, path)
    return path


def test_missing_key_is_named(tmp_path):
    path = _adm_file(
        tmp_path, edit=lambda sd: sd.pop('input_blocks.3.1.qkv.weight'))
    with pytest.raises(KeyError) as info:
        load_adm_checkpoint(ADMUNet(**TINY_ADM), path)
    message = str(info.value)
    assert "'input_blocks.3.1.qkv.weight'" in message
    assert 'encoder.input_blocks.2.1.qkv.weight' in message  # the model's
    assert path in message


def test_wrong_shape_is_named(tmp_path):

    def edit(sd):
        sd['out.2.weight'] = sd['out.2.weight'][:3]  # learn_sigma False

    with pytest.raises(ValueError) as info:
        load_adm_checkpoint(
            ADMUNet(**TINY_ADM), _adm_file(tmp_path, edit=edit))
    message = str(info.value)
    assert "'out.2.weight'" in message and '(3, 32, 3, 3)' in message
    assert '(6, 32, 3, 3)' in message and 'learn_sigma' in message


def test_unexpected_keys_are_named(tmp_path):

    def edit(sd):
        sd['label_emb.weight'] = torch.zeros(10, 128)

    with pytest.raises(KeyError, match='label_emb.weight.*num_classes'):
        load_adm_checkpoint(
            ADMUNet(**TINY_ADM), _adm_file(tmp_path, edit=edit))
    # a model built with a different architecture: the first key it lacks
    with pytest.raises(KeyError, match=r"'input_blocks\.2\.0\.op\.weight'"):
        convert_adm_state_dict(
            random_adm_weights(adm_shapes(adm_layout(**TINY_ADM))),
            ADMUNet(**dict(TINY_ADM, resblock_updown=False)))


def test_legacy_qkv_rows_are_reordered_per_head():
    # legacy rows, 2 heads of width 2: head 0 (q0 q0 k0 k0 v0 v0), head 1
    weight = torch.arange(12.).reshape(12, 1, 1).expand(12, 4, 1)
    out = legacy_qkv_to_split_first(weight, num_heads=2)
    expected = [0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11]
    assert out[:, 0, 0].tolist() == expected
    assert out.shape == weight.shape
    bias = torch.arange(12.)
    assert legacy_qkv_to_split_first(bias, 2).tolist() == expected
    # one head: nothing to reorder; the inverse undoes it
    assert torch.equal(legacy_qkv_to_split_first(bias, 1), bias)
    w = torch.randn(48, 16, 1)
    for heads in (1, 2, 4, 8):
        assert torch.equal(
            split_first_to_legacy(legacy_qkv_to_split_first(w, heads), heads),
            w)
    with pytest.raises(ValueError, match='3 heads'):
        legacy_qkv_to_split_first(torch.zeros(12, 4, 1), 3)
