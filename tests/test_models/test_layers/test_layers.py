# Copyright (c) mmfactdiff contributors. All rights reserved.
import math

import pytest
import torch

from mmfactdiff.models.layers import (SpatialSelfAttention, TimestepEmbedding,
                                      TimestepResBlock, UNetDecoderTrunk,
                                      sinusoidal_embedding)
from mmfactdiff.models.utils import resize_masks, sample_masks


def test_sinusoidal_embedding_closed_form():
    t = torch.tensor([0, 7, 999])
    emb = sinusoidal_embedding(t, 6)
    freqs = [math.exp(-math.log(10000) * i / 3) for i in range(3)]
    expected = [[math.cos(tt * f)
                 for f in freqs] + [math.sin(tt * f) for f in freqs]
                for tt in (0, 7, 999)]
    assert torch.allclose(emb, torch.tensor(expected), atol=1e-5)


def test_timestep_embedding_class_conditioning():
    emb = TimestepEmbedding(8, 16, num_classes=5)
    t = torch.tensor([3, 3])
    a = emb(t, torch.tensor([0, 1]))
    assert not torch.allclose(a[0], a[1])  # labels change the embedding
    with pytest.raises(ValueError, match='class-conditional'):
        emb(t)
    with pytest.raises(ValueError, match='unconditional'):
        TimestepEmbedding(8, 16)(t, torch.tensor([0, 1]))


def test_res_block_starts_as_identity_and_uses_embedding():
    block = TimestepResBlock(8, 8, emb_channels=4, num_groups=4)
    x = torch.randn(2, 8, 5, 5)
    # zero-initialised last conv: the residual branch starts at zero
    assert torch.equal(block(x, torch.randn(2, 4)), x)
    torch.nn.init.normal_(block.out_layers[-1].weight)
    y1 = block(x, torch.zeros(2, 4))
    y2 = block(x, torch.ones(2, 4))
    assert not torch.allclose(y1, y2)


def test_res_block_checkpointing_gives_same_gradients():
    torch.manual_seed(0)
    block = TimestepResBlock(4, 8, emb_channels=4, num_groups=2)
    torch.nn.init.normal_(block.out_layers[-1].weight)
    x = torch.randn(2, 4, 6, 6, requires_grad=True)
    emb = torch.randn(2, 4)
    block(x, emb).square().sum().backward()
    g = x.grad.clone()
    x.grad = None
    block.with_cp = True
    block(x, emb).square().sum().backward()
    assert torch.allclose(x.grad, g, atol=1e-6)


def test_attention_is_permutation_equivariant_over_pixels():
    attn = SpatialSelfAttention(8, num_heads=2, num_groups=4)
    torch.nn.init.normal_(attn.proj.weight)
    x = torch.randn(1, 8, 2, 3)
    perm = torch.randperm(6)
    y = attn(x).flatten(2)[..., perm]
    y_perm = attn(x.flatten(2)[..., perm].reshape(1, 8, 2, 3)).flatten(2)
    assert torch.allclose(y, y_perm, atol=1e-5)
    with pytest.raises(ValueError, match='divisible'):
        SpatialSelfAttention(6, num_heads=4)


def test_resize_masks_keeps_partition_of_unity():
    masks = torch.randn(2, 3, 8, 8).softmax(1)
    small = resize_masks(masks, (2, 2))
    assert torch.allclose(small.sum(1), torch.ones(2, 2, 2))
    # area averaging: each output pixel is the mean of a 4x4 block
    assert torch.allclose(small[0, 0, 0, 0], masks[0, 0, :4, :4].mean())
    big = resize_masks(masks, (16, 16))
    assert torch.allclose(big.sum(1), torch.ones(2, 16, 16))


def test_gumbel_masks_are_one_hot_and_pass_gradients():
    logits = torch.randn(2, 3, 4, 4, requires_grad=True)
    m = sample_masks(logits, 'gumbel', tau=0.5, training=True)
    # one-hot up to the rounding of hard + soft - soft.detach()
    assert torch.allclose(m, m.round(), atol=1e-6)
    assert set(m.detach().round().unique().tolist()) == {0., 1.}
    assert torch.allclose(m.sum(1), torch.ones(2, 4, 4))
    (m * torch.randn_like(m)).sum().backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0
    # outside training it is the softmax, deterministic
    soft = sample_masks(logits, 'gumbel', training=False)
    assert torch.allclose(soft, logits.softmax(1))
    with pytest.raises(ValueError, match='soft'):
        sample_masks(logits, 'hard')


def test_trunk_upsamples_where_skips_get_finer():
    trunk = UNetDecoderTrunk(
        skip_channels=[4, 4, 8],
        skip_strides=[1, 1, 2],
        mid_channels=8,
        mid_stride=2,
        base_channels=4,
        channel_mults=(1, 2),
        num_groups=2)
    # blocks consume skips LIFO: stride 2 (no upsample), then two at 1
    kinds = [type(u).__name__ for u in trunk.upsamples]
    assert kinds == ['Identity', 'Upsample', 'Identity']
    skips = [
        torch.randn(1, 4, 8, 8),
        torch.randn(1, 4, 8, 8),
        torch.randn(1, 8, 4, 4)
    ]
    out = trunk(skips, torch.randn(1, 8, 4, 4))
    assert out.shape == (1, 4, 8, 8)
    with pytest.raises(ValueError, match='levels'):
        UNetDecoderTrunk([4, 4], [1, 4], 4, 4, 4, channel_mults=(1, 2))


def test_block_gumbel_noise_gives_coherent_hard_masks():
    torch.manual_seed(0)
    logits = torch.zeros(1, 2, 8, 8, requires_grad=True)
    m = sample_masks(logits, 'gumbel', training=True, noise_stride=4)
    hard = m.detach().round()
    # with flat logits the assignment is constant on each 4x4 block
    blocks = hard.unfold(2, 4, 4).unfold(3, 4, 4)
    assert (blocks.amax((-1, -2)) == blocks.amin((-1, -2))).all()
    m.sum().backward()
    assert logits.grad is not None


def test_res_block_probe_options():
    """emb_act=False projects the embedding without a SiLU before it;
    zero_init=False keeps PyTorch's init of the last conv."""
    block = TimestepResBlock(
        8,
        8,
        emb_channels=4,
        num_groups=4,
        use_scale_shift_norm=False,
        emb_act=False,
        zero_init=False)
    assert [type(m) for m in block.emb_proj] == [torch.nn.Linear]
    assert block.out_layers[-1].weight.abs().sum() > 0
    x = torch.randn(2, 8, 5, 5)
    assert not torch.allclose(block(x, torch.randn(2, 4)), x)
    # the additive embedding enters as a plain linear map of emb
    e = torch.randn(2, 4)
    h = block.in_layers(x) + block.emb_proj(e)[..., None, None]
    expected = block.skip(x) + block.out_layers(block.out_norm(h))
    assert torch.allclose(block(x, e), expected, atol=1e-6)
    default = TimestepResBlock(8, 8, emb_channels=4, num_groups=4)
    assert isinstance(default.emb_proj[0], torch.nn.SiLU)


def test_trunk_block_width_skip_mirrors_the_encoder():
    skips = [16, 16, 16, 32, 32, 32]
    strides = [1, 1, 2, 2, 4, 4]
    level = UNetDecoderTrunk(skips, strides, 32, 4, 16, (1, 2, 2))
    skip = UNetDecoderTrunk(
        skips, strides, 32, 4, 16, (1, 2, 2), block_width='skip')

    def widths(trunk):
        return [b[0].out_layers[-1].out_channels for b in trunk.blocks]

    assert widths(level) == [32, 32, 32, 32, 16, 16]  # ADM: by level
    assert widths(skip) == list(reversed(skips))  # as wide as each skip
    feats = [torch.randn(1, c, 8 // s, 8 // s) for c, s in zip(skips, strides)]
    assert skip(feats, torch.randn(1, 32, 2, 2)).shape == (1, 16, 8, 8)
    with pytest.raises(ValueError, match='block_width'):
        UNetDecoderTrunk(
            skips, strides, 32, 4, 16, (1, 2, 2), block_width='mirror')


def test_trunk_residual_init_option():
    trunk = UNetDecoderTrunk([8], [1],
                             8,
                             2,
                             8, (1, 1),
                             zero_init_residual=False,
                             emb_act=False,
                             emb_channels=4)
    block = trunk.blocks[0][0]
    assert block.out_layers[-1].weight.abs().sum() > 0
    assert [type(m) for m in block.emb_proj] == [torch.nn.Linear]


def test_resize_masks_bilinear():
    masks = torch.rand(1, 2, 8, 8).softmax(1)
    half = resize_masks(masks, (4, 4), 'bilinear')
    # a factor-2 shrink without align_corners averages each 2x2 block
    assert torch.allclose(half, resize_masks(masks, (4, 4)), atol=1e-6)
    quarter = resize_masks(masks, (2, 2), 'bilinear')
    # a factor-4 shrink reads the middle 2x2 of each 4x4 block
    middle = (masks[..., 1::4, 1::4] + masks[..., 2::4, 1::4] +
              masks[..., 1::4, 2::4] + masks[..., 2::4, 2::4]) / 4
    assert torch.allclose(quarter, middle, atol=1e-6)
    assert torch.allclose(quarter.sum(1), torch.ones(1, 2, 2), atol=1e-6)
    with pytest.raises(ValueError, match='resize mode'):
        resize_masks(masks, (4, 4), 'nearest')
