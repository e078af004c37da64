# Copyright (c) mmfactdiff contributors. All rights reserved.
import pytest
import torch
from mmseg.registry import MODELS

from tiny_models import tiny_backbone


def _decoder(enc, **kwargs):
    cfg = dict(
        type='ParallelUNetDecoder',
        in_channels=enc.out_channels,
        in_strides=enc.out_strides,
        channels=8,
        channel_mults=(1, 2),
        emb_channels=enc.embedding_channels,
        num_heads=2,
        num_groups=4)
    cfg.update(kwargs)
    dec = MODELS.build(cfg)
    for p in dec.parameters():  # leave the zero-init regime
        torch.nn.init.normal_(p, std=0.1)
    return dec


def _inputs(enc, k, b=2, size=16):
    feats = enc(torch.randn(b, 3, size, size), torch.tensor([5] * b))
    masks = torch.randn(b, k, size, size).softmax(1)
    return feats, masks


def _n_params(m):
    return sum(p.numel() for p in m.parameters())


# the paper's decoder and its ablations (Table 6 d, b, c)
VARIANTS = {
    'masked_skips': dict(),
    'masked_features': dict(type='MaskedFeaturesUNetDecoder'),
    'unshared': dict(share_weights=False),
}


@pytest.mark.parametrize('variant', ['masked_skips', 'masked_features'])
def test_parameter_count_does_not_depend_on_k(variant):
    enc = MODELS.build(tiny_backbone())
    counts = {
        _n_params(_decoder(enc, num_regions=k, **VARIANTS[variant]))
        for k in (1, 2, 5)
    }
    assert len(counts) == 1


def test_unshared_decoders_grow_with_k():
    enc = MODELS.build(tiny_backbone())
    one = _n_params(_decoder(enc))
    assert _n_params(_decoder(enc, share_weights=False,
                              num_regions=3)) == 3 * one


@pytest.mark.parametrize('variant', sorted(VARIANTS))
def test_batched_decoding_equals_k_looped_passes(variant):
    torch.manual_seed(1)
    enc = MODELS.build(tiny_backbone())
    dec = _decoder(enc, num_regions=3, **VARIANTS[variant])
    feats, masks = _inputs(enc, 3)
    batched = dec.forward_regions(feats, masks)
    looped = torch.stack([
        dec.forward_region(feats, masks[:, k:k + 1], region=k)
        for k in range(3)
    ], 1)
    assert batched.shape == (2, 3, 3, 16, 16)
    assert torch.allclose(batched, looped, atol=1e-5)
    # the output is the mask-weighted sum of the region outputs
    combined = (masks[:, :, None] * looped).sum(1)
    assert torch.allclose(dec(feats, masks), combined, atol=1e-5)


def test_region_outputs_only_see_their_masked_skips():
    """With masked skips, eps_k does not change when the image changes
    only where m_k is zero (h_mid is shared, so compare at zero h_mid
    influence by fixing the features)."""
    enc = MODELS.build(tiny_backbone())
    dec = _decoder(enc)
    feats, _ = _inputs(enc, 2, b=1)
    masks = torch.zeros(1, 2, 16, 16)
    masks[:, 0, :, :8] = 1
    masks[:, 1, :, 8:] = 1
    out = dec.forward_regions(feats, masks)
    perturbed = list(feats)
    # change skips only inside region 1: region 0's output is unchanged
    for i in range(len(perturbed) - 1):
        f = perturbed[i].clone()
        f[..., f.shape[-1] // 2:] += 10.
        perturbed[i] = f
    out2 = dec.forward_regions(type(feats)(perturbed, feats.emb), masks)
    assert torch.allclose(out[:, 0], out2[:, 0], atol=1e-5)
    assert not torch.allclose(out[:, 1], out2[:, 1], atol=1e-3)


def test_masked_features_differs_from_masked_skips():
    """Same weights, different decoding: the variants are not aliases."""
    enc = MODELS.build(tiny_backbone())
    skips = _decoder(enc, num_regions=2)
    feats = _decoder(enc, num_regions=2, type='MaskedFeaturesUNetDecoder')
    feats.load_state_dict(skips.state_dict())
    f, masks = _inputs(enc, 2)
    assert not torch.allclose(skips(f, masks), feats(f, masks), atol=1e-4)


def test_concat_masks_decoder():
    enc = MODELS.build(tiny_backbone())
    dec = _decoder(enc, type='ConcatMasksUNetDecoder', num_regions=3)
    feats, masks = _inputs(enc, 3)
    out = dec(feats, masks)
    assert out.shape == (2, 3, 16, 16)
    assert not torch.allclose(out, dec(feats, masks.flip(1)))
    with pytest.raises(ValueError, match='per-region'):
        dec.forward_regions(feats, masks)


def test_variants_without_their_region_count_are_rejected():
    enc = MODELS.build(tiny_backbone())
    with pytest.raises(ValueError, match='num_regions'):
        _decoder(enc, share_weights=False)
    with pytest.raises(ValueError, match='num_regions'):
        _decoder(enc, type='ConcatMasksUNetDecoder')
    with pytest.raises(ValueError, match='share_weights'):
        _decoder(
            enc,
            type='ConcatMasksUNetDecoder',
            num_regions=2,
            share_weights=False)


def test_output_init_and_bilinear_mask_resize():
    # three levels: a stride-4 skip, where bilinear and area resizing differ
    enc = MODELS.build(tiny_backbone(channel_mults=(1, 2, 2)))
    base = dict(
        type='ParallelUNetDecoder',
        in_channels=enc.out_channels,
        in_strides=enc.out_strides,
        channels=8,
        channel_mults=(1, 2, 2),
        emb_channels=enc.embedding_channels,
        num_heads=2,
        num_groups=4)
    zero = MODELS.build(base)
    assert zero.decoders[0]['out'][-1].weight.abs().sum() == 0
    probe = MODELS.build(
        dict(base, zero_init_out=False, mask_resize='bilinear'))
    assert probe.decoders[0]['out'][-1].weight.abs().sum() > 0
    feats, masks = _inputs(enc, 2)
    hard = (masks > 0.5).float()
    # the folded pass uses the same resizing as the one-region pass
    folded = probe.forward_regions(feats, hard)
    for k in range(2):
        one = probe.forward_region(feats, hard[:, k:k + 1], region=k)
        assert torch.allclose(folded[:, k], one, atol=1e-5)
    area = MODELS.build(dict(base, zero_init_out=False))
    area.load_state_dict(probe.state_dict())
    # different resizing of hard masks gives different predictions
    assert not torch.allclose(area(feats, hard), probe(feats, hard))
    with pytest.raises(ValueError, match='mask_resize'):
        MODELS.build(dict(base, mask_resize='nearest'))
