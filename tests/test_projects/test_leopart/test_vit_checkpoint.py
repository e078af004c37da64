# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/leopart: DINO / Leopart ViT files (timm names) into mmseg's
VisionTransformer, checked against an independent timm-style forward."""
import pytest
import torch
import torch.nn.functional as F
from mmseg.models.backbones import VisionTransformer

from projects.leopart.leopart import (LeopartHead, load_vit_checkpoint,
                                      split_leopart_checkpoint)

DIM, DEPTH, HEADS, PATCH = 16, 2, 2, 4


def _timm_state(grid=4, seed=0):
    """A tiny ViT's weights under timm/DINO names."""
    gen = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.randn(*shape, generator=gen) * 0.2

    sd = {
        'cls_token': r(1, 1, DIM),
        'pos_embed': r(1, grid * grid + 1, DIM),
        'patch_embed.proj.weight': r(DIM, 3, PATCH, PATCH),
        'patch_embed.proj.bias': r(DIM),
        'norm.weight': 1 + r(DIM),
        'norm.bias': r(DIM),
    }
    for i in range(DEPTH):
        b = f'blocks.{i}.'
        sd.update({
            b + 'norm1.weight': 1 + r(DIM),
            b + 'norm1.bias': r(DIM),
            b + 'attn.qkv.weight': r(3 * DIM, DIM),
            b + 'attn.qkv.bias': r(3 * DIM),
            b + 'attn.proj.weight': r(DIM, DIM),
            b + 'attn.proj.bias': r(DIM),
            b + 'norm2.weight': 1 + r(DIM),
            b + 'norm2.bias': r(DIM),
            b + 'mlp.fc1.weight': r(4 * DIM, DIM),
            b + 'mlp.fc1.bias': r(4 * DIM),
            b + 'mlp.fc2.weight': r(DIM, 4 * DIM),
            b + 'mlp.fc2.bias': r(DIM),
        })
    return sd


def _timm_forward(sd, x):
    """timm's ViT forward, written from its definition: patch tokens after
    the final norm, as (B, C, h, w)."""
    tok = F.conv2d(
        x,
        sd['patch_embed.proj.weight'],
        sd['patch_embed.proj.bias'],
        stride=PATCH)
    b, c, h, w = tok.shape
    tok = tok.flatten(2).transpose(1, 2)
    tok = torch.cat([sd['cls_token'].expand(b, -1, -1), tok], 1)
    tok = tok + sd['pos_embed']
    for i in range(DEPTH):
        p = f'blocks.{i}.'
        y = F.layer_norm(tok, (DIM, ), sd[p + 'norm1.weight'],
                         sd[p + 'norm1.bias'])
        qkv = F.linear(y, sd[p + 'attn.qkv.weight'], sd[p + 'attn.qkv.bias'])
        q, k, v = qkv.view(b, -1, 3, HEADS,
                           DIM // HEADS).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-2, -1) * (DIM // HEADS)**-0.5).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(b, -1, DIM)
        tok = tok + F.linear(y, sd[p + 'attn.proj.weight'],
                             sd[p + 'attn.proj.bias'])
        y = F.layer_norm(tok, (DIM, ), sd[p + 'norm2.weight'],
                         sd[p + 'norm2.bias'])
        y = F.linear(
            F.gelu(
                F.linear(y, sd[p + 'mlp.fc1.weight'], sd[p + 'mlp.fc1.bias'])),
            sd[p + 'mlp.fc2.weight'], sd[p + 'mlp.fc2.bias'])
        tok = tok + y
    tok = F.layer_norm(tok, (DIM, ), sd['norm.weight'], sd['norm.bias'])
    return tok[:, 1:].transpose(1, 2).reshape(b, DIM, h, w)


def _vit(img_size=16):
    return VisionTransformer(
        img_size=img_size,
        patch_size=PATCH,
        embed_dims=DIM,
        num_layers=DEPTH,
        num_heads=HEADS,
        mlp_ratio=4,
        qkv_bias=True,
        patch_bias=True,
        final_norm=True,
        out_indices=-1)


def test_dino_file_gives_timm_outputs(tmp_path):
    sd = _timm_state()
    path = str(tmp_path / 'dino_tiny.pth')
    torch.save(sd, path)  # a DINO release: the backbone's state dict
    vit = _vit()
    vit.eval()
    load_vit_checkpoint(vit, path)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        got = vit(x)[-1]
    assert torch.allclose(got, _timm_forward(sd, x), atol=1e-5)


def test_leopart_file_with_head_and_prefixes(tmp_path):
    sd = _timm_state(seed=1)
    head = LeopartHead(
        in_channels=DIM, hidden_channels=8, out_channels=6, num_prototypes=5)
    head_sd = {
        k: torch.randn_like(v)
        for k, v in head.state_dict().items() if k != 'queue'
    }
    state = {'model.' + k: v for k, v in sd.items()}
    state.update({'model.' + k: v for k, v in head_sd.items()})
    # the EMA teacher is stored too and is not read
    state.update({'teacher.' + k: torch.zeros_like(v) for k, v in sd.items()})
    path = str(tmp_path / 'leopart_tiny.ckpt')
    torch.save({'state_dict': state, 'epoch': 3}, path)
    backbone, heads = split_leopart_checkpoint(torch.load(path))
    assert set(backbone) == set(sd) and set(heads) == set(head_sd)
    vit = _vit()
    fresh = LeopartHead(
        in_channels=DIM, hidden_channels=8, out_channels=6, num_prototypes=5)
    load_vit_checkpoint(vit, path, head=fresh)
    assert torch.equal(vit.layers[1].attn.attn.in_proj_weight,
                       sd['blocks.1.attn.qkv.weight'])
    for k, v in head_sd.items():
        assert torch.equal(fresh.state_dict()[k], v)


def test_position_embedding_is_resized_for_another_grid(tmp_path):
    sd = _timm_state(grid=4)
    path = str(tmp_path / 'dino_tiny.pth')
    torch.save(sd, path)
    vit = _vit(img_size=32)  # 8x8 tokens
    load_vit_checkpoint(vit, path)
    assert vit.pos_embed.shape == (1, 65, DIM)
    assert torch.equal(vit.pos_embed[:, 0], sd['pos_embed'][:, 0])


def test_wrong_architecture_and_foreign_files_are_named(tmp_path):
    sd = _timm_state()
    path = str(tmp_path / 'dino_tiny.pth')
    torch.save(sd, path)
    wide = VisionTransformer(
        img_size=16,
        patch_size=PATCH,
        embed_dims=32,
        num_layers=DEPTH,
        num_heads=HEADS,
        qkv_bias=True,
        patch_bias=True,
        final_norm=True)
    with pytest.raises(RuntimeError, match='dino_tiny.pth.*embed_dims'):
        load_vit_checkpoint(wide, path)
    torch.save({'conv1.weight': torch.zeros(1)}, path)
    with pytest.raises(KeyError, match='not a ViT'):
        load_vit_checkpoint(_vit(), path)
    torch.save(sd, path)
    with pytest.raises(KeyError, match='no projection_head'):
        load_vit_checkpoint(
            _vit(),
            path,
            head=LeopartHead(
                in_channels=DIM,
                hidden_channels=8,
                out_channels=6,
                num_prototypes=5))
