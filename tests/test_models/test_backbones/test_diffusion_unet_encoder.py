# Copyright (c) mmfactdiff contributors. All rights reserved.
import pytest
import torch
from mmseg.registry import MODELS

from mmfactdiff.models.utils import UNetFeatures
from tiny_models import leave_zero_init, tiny_backbone


def test_skip_layout_matches_adm_rule():
    enc = MODELS.build(
        tiny_backbone(channel_mults=(1, 2, 2), num_res_blocks=2))
    # ADM: 1 stem + L * num_res_blocks + (L - 1) downsamplers, then h_mid
    assert len(enc.skip_channels) == 1 + 3 * 2 + 2
    assert enc.skip_strides == [1, 1, 1, 2, 2, 2, 4, 4, 4]
    assert enc.skip_channels == [8, 8, 8, 8, 16, 16, 16, 16, 16]
    x = torch.randn(2, 3, 16, 16)
    feats = enc(x, torch.tensor([1, 500]))
    assert isinstance(feats, UNetFeatures) and len(feats) == 10
    for f, c, s in zip(feats, enc.out_channels, enc.out_strides):
        assert f.shape == (2, c, 16 // s, 16 // s)
    assert feats.emb.shape == (2, enc.embedding_channels)


def test_timestep_changes_features_and_default_timestep():
    enc = leave_zero_init(MODELS.build(tiny_backbone(default_timestep=5)))
    x = torch.randn(1, 3, 8, 8)
    a = enc(x, torch.tensor([5]))
    b = enc(x)  # drop-in backbone call: default timestep
    c = enc(x, torch.tensor([400]))
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert not torch.allclose(a.mid, c.mid)


def test_class_conditional_encoder():
    enc = leave_zero_init(MODELS.build(tiny_backbone(num_classes=4)))
    x = torch.randn(2, 3, 8, 8)
    x[1] = x[0]
    feats = enc(x, torch.tensor([3, 3]), torch.tensor([0, 2]))
    assert not torch.allclose(feats.mid[0], feats.mid[1])
    with pytest.raises(ValueError):
        enc(x, torch.tensor([3, 3]))


def test_stock_mmseg_head_on_encoder_in_encoder_decoder():
    """The encoder is a drop-in mmseg backbone under a stock FCN head."""
    model = MODELS.build(
        dict(
            type='EncoderDecoder',
            data_preprocessor=dict(type='SegDataPreProcessor', size=(8, 8)),
            backbone=tiny_backbone(),
            decode_head=dict(
                type='FCNHead',
                in_channels=16,
                in_index=-1,
                channels=8,
                num_convs=1,
                num_classes=2)))
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    sample = SegDataSample(
        gt_sem_seg=PixelData(data=torch.randint(0, 2, (1, 8, 8))),
        metainfo=dict(img_shape=(8, 8), ori_shape=(8, 8), pad_shape=(8, 8)))
    losses = model.loss(torch.randn(1, 3, 8, 8), [sample])
    assert 'decode.loss_ce' in losses
    losses['decode.loss_ce'].backward()
    assert model.backbone.stem.weight.grad is not None


def test_probe_options_of_the_encoder():
    cfg = tiny_backbone(channel_mults=(1, 2), num_res_blocks=1)
    probe = MODELS.build(
        dict(
            cfg,
            num_mid_res_blocks=1,
            mid_attention=False,
            sinusoid_channels=32,
            emb_act=False,
            zero_init_residual=False,
            use_scale_shift_norm=False))
    assert len(probe.middle_block) == 1
    assert probe.time_embedding.mlp[0].in_features == 32
    block = probe.middle_block[0]
    assert block.out_layers[-1].weight.abs().sum() > 0
    assert [type(m) for m in block.emb_proj] == [torch.nn.Linear]
    feats = probe(torch.randn(2, 3, 16, 16), torch.tensor([3, 700]))
    assert feats[-1].shape == (2, probe.out_channels[-1], 8, 8)
    adm = MODELS.build(cfg)
    assert len(adm.middle_block) == 3  # ResBlock, attention, ResBlock
    assert adm.time_embedding.mlp[0].in_features == adm.base_channels
    with pytest.raises(ValueError, match='num_mid_res_blocks'):
        MODELS.build(dict(cfg, num_mid_res_blocks=3))
