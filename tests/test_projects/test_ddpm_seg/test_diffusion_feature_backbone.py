# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/ddpm_seg: DiffusionFeatureBackbone, DDPM-seg's pixel features
of a frozen diffusion U-Net (the package's plain U-Net with K = 1, and
guided-diffusion's layout, ADMUNet)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmfactdiff.models import Upsample
from projects.ddpm_seg.ddpm_seg import ADMUNet, DiffusionFeatureBackbone
from tiny_models import leave_zero_init, tiny_backbone, tiny_segmentor

TINY_ADM = dict(
    type='ADMUNet',
    image_size=16,
    model_channels=32,
    channel_mult=(1, 2),
    num_res_blocks=1,
    attention_resolutions=(8, ),
    num_head_channels=16,
    resblock_updown=True,
    out_channels=6)


def _plain(**kwargs):
    cfg = dict(
        unet=tiny_segmentor(num_regions=1),
        img_size=16,
        blocks=(0, 1, 3),
        steps=(5, 40),
        allow_random_weights=True)
    cfg.update(kwargs)
    backbone = DiffusionFeatureBackbone(**cfg)
    leave_zero_init(backbone.unet)
    return backbone


def _adm(**kwargs):
    cfg = dict(
        unet=TINY_ADM,
        img_size=16,
        blocks=(0, 1, 3),
        steps=(50, 250),
        allow_random_weights=True)
    cfg.update(kwargs)
    backbone = DiffusionFeatureBackbone(**cfg)
    leave_zero_init(backbone.unet)
    return backbone


def _trunk_outputs(unet, x_t, t):
    """Every decoder block's output, each followed by the upsampling that
    comes before the next block (ADM's blocks end with theirs)."""
    feats = unet.backbone(x_t, t)
    trunk = unet.decoder.decoders[0]['trunk']
    skips, h, outs = list(feats[:-1]), feats[-1], []
    for block, upsample in zip(trunk.blocks, trunk.upsamples):
        h = block(torch.cat([upsample(h), skips.pop()], 1), feats.emb)
        outs.append(h)
    return [
        trunk.upsamples[i + 1](h) if i + 1 < len(outs) else h
        for i, h in enumerate(outs)
    ]


def test_plain_unet_features_are_its_decoder_blocks():
    # the tiny trunk's blocks run at strides 2, 2, 1, 1: block 1 is read
    # after the (learned) upsampling that follows it
    backbone = _plain(blocks=(0, 1, 3))
    unet = backbone.unet
    trunk = unet.decoder.decoders[0]['trunk']
    assert isinstance(trunk.upsamples[2], Upsample)
    widths = [b[0].out_norm.num_channels for b in trunk.blocks]
    assert backbone.out_channels == 2 * (widths[0] + widths[1] + widths[3])
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    (feats, ) = backbone(x)
    assert feats.shape == (2, backbone.out_channels, 16, 16)
    start = 0
    with torch.no_grad():
        for t in (5, 40):
            x_t = unet.scheduler.add_noise(x, backbone.noise.expand_as(x), t)
            outs = _trunk_outputs(unet, x_t, torch.tensor([t, t]))
            for b in (0, 1, 3):
                expected = F.interpolate(
                    outs[b],
                    size=(16, 16),
                    mode='bilinear',
                    align_corners=False)
                got = feats[:, start:start + expected.shape[1]]
                torch.testing.assert_close(got, expected)
                start += expected.shape[1]
            # the last block is what the U-Net's output layer reads: the
            # denoiser's own prediction comes out of the features
            last = feats[:, start - widths[3]:start]
            eps, _ = unet.denoise(x_t, torch.tensor([t, t]))
            torch.testing.assert_close(unet.decoder.decoders[0]['out'](last),
                                       eps)
    assert start == backbone.out_channels
    # hooks are removed after the pass
    assert all(not m._forward_hooks for m in unet.modules())


def test_adm_features_are_its_output_blocks():
    backbone = _adm(blocks=(0, 1, 3), steps=(50, 250))
    unet = backbone.unet
    assert isinstance(unet, ADMUNet)
    widths = unet.output_block_channels
    assert len(widths) == 4
    assert backbone.out_channels == 2 * (widths[0] + widths[1] + widths[3])
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    (feats, ) = backbone(x)
    assert feats.shape == (3, backbone.out_channels, 16, 16)
    start = 0
    with torch.no_grad():
        for t in (50, 250):
            x_t = backbone.scheduler.add_noise(x, backbone.noise.expand_as(x),
                                               t)
            for b in (0, 1, 3):
                block = unet(x_t, t, num_output_blocks=b + 1)
                expected = F.interpolate(
                    block, size=(16, 16), mode='bilinear', align_corners=False)
                torch.testing.assert_close(
                    feats[:, start:start + block.shape[1]], expected)
                start += block.shape[1]
            # block 3 is the last: ADM's output layer on it is the model
            torch.testing.assert_close(
                unet.out(feats[:, start - widths[3]:start]), unet(x_t, t))
    with pytest.raises(ValueError, match='num_output_blocks'):
        unet(x, 5, num_output_blocks=5)


def test_adm_backbone_noises_with_guided_diffusions_linear_schedule():
    backbone = _adm()
    betas = np.linspace(1e-4, 0.02, 1000, dtype=np.float64)
    expected = torch.from_numpy(np.cumprod(1 - betas))
    got = backbone.scheduler.alphas_cumprod.double()
    assert got.shape == (1000, )
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize('build', [_plain, _adm], ids=['plain', 'adm'])
def test_features_do_not_depend_on_the_batch(build):
    backbone = build()
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    (batch, ) = backbone(x)
    (alone, ) = backbone(x[1:2])
    # equal up to the summation order of a batched convolution
    torch.testing.assert_close(alone, batch[1:2], atol=1e-4, rtol=1e-4)
    # the same image twice in a batch: the same features (one noise draw)
    (twice, ) = backbone(x[[0, 0]])
    torch.testing.assert_close(twice[0], twice[1])
    # the global random state plays no part
    torch.manual_seed(123)
    (again, ) = backbone(x[1:2])
    assert torch.equal(again, alone)


def test_fixed_noise_comes_from_noise_seed_only():
    torch.manual_seed(1)
    a = _plain(noise_seed=3)
    torch.manual_seed(2)
    b = _plain(noise_seed=3)
    c = _plain(noise_seed=4)
    assert a.noise.shape == (3, 16, 16)
    assert torch.equal(a.noise, b.noise)
    assert not torch.equal(a.noise, c.noise)
    # the noise is a buffer: it travels in the state dict
    assert 'noise' in a.state_dict()


@pytest.mark.parametrize('build', [_plain, _adm], ids=['plain', 'adm'])
def test_unet_is_frozen_and_stays_in_eval(build):
    backbone = build()
    assert not any(p.requires_grad for p in backbone.unet.parameters())
    backbone.train()
    assert backbone.training
    assert not any(m.training for m in backbone.unet.modules())
    x = torch.rand(2, 3, 16, 16).requires_grad_()
    (feats, ) = backbone(x)
    assert not feats.requires_grad
    backbone.init_weights()  # random weights allowed: stays frozen
    assert not any(p.requires_grad for p in backbone.unet.parameters())


@pytest.mark.parametrize('weights', ['ema', 'raw'])
def test_plain_unet_checkpoint_is_loaded(weights, tmp_path):
    # a tools/train.py checkpoint with EMAHook: state_dict holds the EMA
    # weights, ema_state_dict the raw ones (prefixed module.)
    ema = leave_zero_init(MODELS.build(tiny_segmentor(num_regions=1)), seed=5)
    raw = leave_zero_init(MODELS.build(tiny_segmentor(num_regions=1)), seed=6)
    path = str(tmp_path / 'iter_10.pth')
    torch.save(
        dict(
            state_dict=ema.state_dict(),
            ema_state_dict={
                'module.' + k: v
                for k, v in raw.state_dict().items()
            },
            meta=dict()), path)
    backbone = DiffusionFeatureBackbone(
        unet=tiny_segmentor(num_regions=1),
        img_size=16,
        blocks=(3, ),
        steps=(5, ),
        checkpoint=path,
        weights=weights)
    backbone.init_weights()
    source = ema if weights == 'ema' else raw
    for key, value in source.state_dict().items():
        assert torch.equal(backbone.unet.state_dict()[key], value), key
    assert not any(p.requires_grad for p in backbone.unet.parameters())
    assert not backbone.unet.training


def test_no_checkpoint_is_refused_unless_allowed():
    backbone = DiffusionFeatureBackbone(
        unet=tiny_segmentor(num_regions=1),
        img_size=16,
        blocks=(0, ),
        steps=(5, ))
    with pytest.raises(ValueError, match='checkpoint'):
        backbone.init_weights()


def test_feature_size_and_upsample_mode():
    backbone = _plain(feature_size=(8, 4), upsample_mode='nearest')
    (feats, ) = backbone(torch.zeros(1, 3, 16, 16))
    assert feats.shape == (1, backbone.out_channels, 8, 4)


@pytest.mark.parametrize(
    'kwargs, field',
    [
        (dict(blocks=(4, )), 'blocks'),  # the tiny trunk has 4 blocks
        (dict(blocks=(-1, )), 'blocks'),
        (dict(blocks=(1, 1)), 'blocks'),
        (dict(blocks=()), 'blocks'),
        (dict(steps=(100, )), 'steps'),  # T = 100
        (dict(img_size=(16, 0)), 'img_size'),
        (dict(img_size=(16, 16, 16)), 'img_size'),
        (dict(feature_size=0), 'feature_size'),
        (dict(upsample_mode='linear'), 'upsample_mode'),
        (dict(scheduler=dict(type='DDPMNoiseScheduler')), 'scheduler'),
    ])
def test_config_errors_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        _plain(**kwargs)


def test_unet_errors():
    with pytest.raises(ValueError, match='ONE region'):
        _plain(unet=tiny_segmentor(num_regions=2))
    with pytest.raises(ValueError, match='num_classes'):
        _adm(unet=dict(TINY_ADM, num_classes=10))
    with pytest.raises(ValueError, match='blocks'):
        _adm(blocks=(4, ))  # 4 output blocks
    with pytest.raises(ValueError, match='steps'):
        _adm(steps=(1000, ))
    with pytest.raises(TypeError, match='ADMUNet'):
        DiffusionFeatureBackbone(unet=tiny_backbone(), img_size=16)


def test_wrong_input_size_names_img_size():
    backbone = _plain()
    with pytest.raises(ValueError, match='img_size'):
        backbone(torch.zeros(1, 3, 32, 32))
