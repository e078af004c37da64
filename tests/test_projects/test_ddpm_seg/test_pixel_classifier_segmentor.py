# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/ddpm_seg: PixelClassifierSegmentor, the frozen diffusion
features and the pixel MLP ensemble as one mmseg model, and the project's
configs."""
import copy

import pytest
import torch
from conftest import REPO_ROOT
from mmengine.config import Config, ConfigDict
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from projects.ddpm_seg.ddpm_seg import (DiffusionFeatureBackbone,
                                        PixelClassifierSegmentor)
from tiny_models import leave_zero_init, tiny_segmentor

CONFIGS = f'{REPO_ROOT}/projects/ddpm_seg/configs/'


def _cfg(**head):
    cfg = dict(
        type='PixelClassifierSegmentor',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[127.5] * 3,
            std=[127.5] * 3,
            bgr_to_rgb=True,
            size=(16, 16),
            seg_pad_val=255),
        backbone=dict(
            type='DiffusionFeatureBackbone',
            unet=tiny_segmentor(num_regions=1),
            img_size=16,
            blocks=(1, 3),
            steps=(5, 40),
            allow_random_weights=True),
        decode_head=dict(
            type='PixelMLPEnsembleHead',
            num_classes=2,
            num_members=3,
            hidden_channels=(16, 8),
            num_train_pixels=32,
            ignore_index=255),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))
    cfg['decode_head'].update(head)
    return ConfigDict(copy.deepcopy(cfg))  # as a config file gives it


def _model(**head):
    model = MODELS.build(_cfg(**head))
    model.init_weights()
    leave_zero_init(model.backbone.unet)
    return model


def _data(n=2, size=16, ori=None):
    gen = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(n):
        inputs.append(
            torch.randint(
                0, 256, (3, size, size), dtype=torch.uint8, generator=gen))
        s = SegDataSample()
        shape = ori or (size, size)
        s.set_metainfo(dict(img_shape=(size, size), ori_shape=shape))
        label = torch.zeros(1, *shape, dtype=torch.long)
        label[:, shape[0] // 4:, :shape[1] // 2] = 1
        s.gt_sem_seg = PixelData(data=label)
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def test_head_width_is_filled_from_the_backbone():
    model = _model()
    assert isinstance(model, PixelClassifierSegmentor)
    assert isinstance(model.backbone, DiffusionFeatureBackbone)
    widths = model.backbone.block_channels
    expected = 2 * (widths[1] + widths[3])  # 2 steps, blocks 1 and 3
    assert model.backbone.out_channels == expected
    assert model.decode_head.in_channels == expected
    first = model.decode_head.classifiers[0]
    assert first.in_channels == expected
    # stated and right: accepted; stated and wrong: refused by name
    assert MODELS.build(_cfg(in_channels=expected)).decode_head.in_channels \
        == expected
    with pytest.raises(ValueError, match=f'in_channels={expected + 1}'):
        MODELS.build(_cfg(in_channels=expected + 1))
    # --cfg-options changing the blocks needs no arithmetic
    cfg = _cfg()
    cfg['backbone']['blocks'] = (0, )
    cfg['backbone']['steps'] = (5, )
    model = MODELS.build(cfg)
    assert model.decode_head.in_channels == widths[0]


def test_a_neck_needs_the_width_stated():
    cfg = _cfg()
    cfg['neck'] = dict(type='Feature2Pyramid', embed_dim=8, rescales=[1])
    with pytest.raises(ValueError, match='in_channels'):
        MODELS.build(cfg)


def test_train_step_trains_the_head_only():
    model = _model()
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-2))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    model.train()
    for _ in range(3):
        log = model.train_step(_data(), wrapper)
    assert {'loss', 'decode.loss_ce', 'decode.acc_seg'} <= set(log)
    assert all(torch.isfinite(v).all() for v in log.values())
    changed = {
        n
        for n, p in model.named_parameters() if not torch.equal(p, before[n])
    }
    assert changed and all(n.startswith('decode_head.') for n in changed)
    assert not model.backbone.unet.training
    # loss() directly: the same terms
    inputs = torch.randn(2, 3, 16, 16)
    losses = model.loss(inputs, _data()['data_samples'])
    assert torch.isfinite(losses['decode.loss_ce'])


@pytest.mark.parametrize('ori', [None, (20, 12)])
def test_predict_gives_maps_of_the_input_size(ori):
    model = _model().eval()
    data = model.data_preprocessor(_data(n=2, ori=ori), training=False)
    out = model.predict(data['inputs'], data['data_samples'])
    shape = ori or (16, 16)
    assert len(out) == 2
    for sample in out:
        assert sample.pred_sem_seg.data.shape == (1, *shape)
        assert set(sample.pred_sem_seg.data.unique().tolist()) <= {0, 1}
        # vote shares: one per member
        shares = sample.seg_logits.data
        assert shares.shape == (2, *shape)
    # the same image alone: the same prediction (fixed noise, eval norms)
    alone = model.predict(data['inputs'][:1], data['data_samples'][:1])
    assert torch.equal(alone[0].pred_sem_seg.data, out[0].pred_sem_seg.data)


def test_project_config_builds_with_the_probe_unet():
    cfg = Config.fromfile(
        CONFIGS + 'ddpm-seg_probe-unet-k1_1xb4-500_synthetic-shapes-32x32.py')
    assert cfg.custom_imports['imports'] == [
        'mmfactdiff', 'projects.ddpm_seg.ddpm_seg'
    ]
    assert cfg.model.backbone.checkpoint.endswith('iter_1000.pth')
    model = MODELS.build(cfg.model)
    backbone = model.backbone
    assert backbone.steps == [50, 150, 250] and backbone.blocks == [1, 2, 3, 4]
    assert model.decode_head.in_channels == 3 * sum(backbone.block_channels[b]
                                                    for b in (1, 2, 3, 4))
    assert model.decode_head.num_members == 10
    # without the plain U-Net's checkpoint, training stops at once
    cfg.model.backbone.checkpoint = '/nonexistent/iter_1000.pth'
    with pytest.raises((FileNotFoundError, RuntimeError),
                       match='iter_1000.pth'):
        MODELS.build(cfg.model).init_weights()


def test_adm_256_base_gives_ddpm_segs_8448_channels():
    cfg = Config.fromfile(
        f'{REPO_ROOT}/projects/ddpm_seg/configs/_base_/models/'
        'ddpm-seg_adm-256.py')
    backbone_cfg = cfg.model.backbone
    assert tuple(backbone_cfg.blocks) == (5, 6, 7, 8, 12)
    assert tuple(backbone_cfg.steps) == (50, 150, 250)
    assert backbone_cfg.unet.model_channels == 256
    # the same network at 1/8 of the width (553M parameters are too many
    # for a unit test): the widths, hence the features, scale with it
    backbone_cfg.unet.model_channels = 32
    backbone_cfg.allow_random_weights = True
    backbone = MODELS.build(backbone_cfg)
    assert len(backbone.unet.output_blocks) == 18
    assert backbone.block_channels == [128] * 6 + [64] * 6 + [32] * 6
    assert backbone.out_channels * 8 == 8448
