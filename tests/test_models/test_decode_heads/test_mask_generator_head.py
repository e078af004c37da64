# Copyright (c) mmfactdiff contributors. All rights reserved.
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from tiny_models import tiny_backbone


def _head(enc, k=3, **kwargs):
    return MODELS.build(
        dict(
            type='MaskGeneratorHead',
            in_channels=enc.out_channels,
            in_strides=enc.out_strides,
            channels=8,
            channel_mults=(1, 2),
            emb_channels=enc.embedding_channels,
            num_classes=k,
            num_heads=2,
            num_groups=4,
            **kwargs))


def test_masks_sum_to_one_over_k():
    enc = MODELS.build(tiny_backbone())
    head = _head(enc, k=4)
    feats = enc(torch.randn(2, 3, 16, 16), torch.tensor([3, 9]))
    logits = head(feats)
    assert logits.shape == (2, 4, 16, 16)
    masks = head.masks(logits)
    assert torch.allclose(masks.sum(1), torch.ones(2, 16, 16), atol=1e-6)
    assert (masks >= 0).all()


def test_head_depends_on_timestep_embedding_and_errors_without_it():
    enc = MODELS.build(tiny_backbone())
    head = _head(enc)
    for p in head.parameters():  # leave the zero-init regime
        torch.nn.init.normal_(p, std=0.2)
    feats = enc(torch.randn(1, 3, 8, 8), torch.tensor([3]))
    other = type(feats)(list(feats), torch.randn_like(feats.emb))
    assert not torch.allclose(head(feats), head(other))
    with pytest.raises(ValueError, match='no timestep'):
        head(tuple(feats))


def test_head_on_plain_multiscale_features_trains_with_labels():
    """Usable as an ordinary mmseg head on another backbone (ResNet-like
    strides 4..32, no timestep embedding), supervised by loss_decode."""
    head = MODELS.build(
        dict(
            type='MaskGeneratorHead',
            in_channels=[8, 16, 32, 32],
            in_strides=[4, 8, 16, 32],
            channels=8,
            channel_mults=(1, 2, 4),
            attention_strides=(),
            num_classes=5,
            num_groups=4))
    feats = [
        torch.randn(2, c, 64 // s, 64 // s)
        for c, s in zip([8, 16, 32, 32], [4, 8, 16, 32])
    ]
    assert head(feats).shape == (2, 5, 16, 16)
    samples = [
        SegDataSample(
            gt_sem_seg=PixelData(data=torch.randint(0, 5, (1, 64, 64))),
            metainfo=dict(img_shape=(64, 64))) for _ in range(2)
    ]
    losses = head.loss(feats, samples, train_cfg=None)
    losses['loss_ce'].backward()
    assert head.conv_seg.weight.grad.abs().sum() > 0


def test_head_rejects_missing_inputs_description():
    with pytest.raises(ValueError, match='in_channels'):
        MODELS.build(dict(type='MaskGeneratorHead', channels=8, num_classes=2))


def test_seg_kernel_size_and_init():
    enc = MODELS.build(tiny_backbone())
    head = _head(enc, k=2, seg_kernel_size=3, init_cfg=None)
    head.init_weights()
    assert head.conv_seg.kernel_size == (3, 3)
    # PyTorch's default init, far wider than mmseg's normal(0, 0.01)
    assert head.conv_seg.weight.std() > 0.05
    feats = enc(torch.randn(1, 3, 16, 16), torch.tensor([3]))
    assert head(feats).shape == (1, 2, 16, 16)
    default = _head(enc, k=2)
    default.init_weights()
    assert default.conv_seg.kernel_size == (1, 1)
    assert default.conv_seg.weight.std() < 0.02
    with pytest.raises(ValueError, match='seg_kernel_size'):
        _head(enc, seg_kernel_size=5)
