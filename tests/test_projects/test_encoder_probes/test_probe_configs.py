# Copyright (c) mmfactdiff contributors. All rights reserved.
"""The probe configs load a factorized model's encoder from a checkpoint,
keep it frozen while mmseg's head learns, and read its middle block."""
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

PROBES = osp.join(REPO_ROOT, 'projects/encoder_probes/configs')
CONFIGS = [
    osp.join(
        PROBES, f'{kind}-probe_factdiff-probe-encoder-k2_1xb4-500_'
        'synthetic-shapes-32x32.py') for kind in ('linear', 'fcn')
]
MAIN_JOB = osp.join(
    REPO_ROOT,
    'configs/factdiff/factdiff_unet-probe-k2_1xb32-1k_synthetic-32x32.py')


def _batch(n=2, size=32):
    gen = torch.Generator().manual_seed(0)
    inputs = [
        torch.randint(0, 256, (3, size, size), generator=gen).float()
        for _ in range(n)
    ]
    samples = []
    for _ in range(n):
        label = torch.zeros(1, size, size, dtype=torch.long)
        label[:, 8:24, 8:24] = 1
        s = SegDataSample()
        s.set_metainfo(dict(img_shape=(size, size), ori_shape=(size, size)))
        s.gt_sem_seg = PixelData(data=label)
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_probe_trains_the_head_on_a_frozen_loaded_encoder(path, tmp_path):
    init_default_scope('mmseg')
    # a factorized model of the main job, saved as tools/train.py does
    factdiff = MODELS.build(Config.fromfile(MAIN_JOB).model)
    ckpt = str(tmp_path / 'iter_1000.pth')
    torch.save(dict(state_dict=factdiff.state_dict(), meta=dict()), ckpt)

    cfg = Config.fromfile(path)
    assert cfg.model.backbone.init_cfg.prefix == 'backbone.'
    cfg.model.backbone.init_cfg.checkpoint = ckpt
    model = MODELS.build(cfg.model)
    model.init_weights()
    encoder = {
        k: v
        for k, v in factdiff.state_dict().items() if k.startswith('backbone.')
    }
    loaded = model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in encoder.items())

    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    head_before = {
        k: v.clone()
        for k, v in model.decode_head.state_dict().items()
    }
    for _ in range(2):
        losses = model.train_step(_batch(), wrapper)
    assert torch.isfinite(losses['loss'])
    after = model.state_dict()
    # the encoder never moves (lr_mult 0); the head does
    assert all(torch.equal(after[k], v) for k, v in encoder.items())
    assert any(not torch.equal(model.decode_head.state_dict()[k], v)
               for k, v in head_before.items())

    model.eval()
    with torch.no_grad():
        out = model.test_step(_batch(1))
    assert out[0].pred_sem_seg.data.shape[-2:] == (32, 32)


def test_mask_generator_head_trains_on_an_mmseg_resnet():
    """The factorized model's head as a plain mmseg decode head: on
    ResNet-18 features (no timestep embedding) it learns a fixed batch with
    the backbone, and predicts at the input size."""
    init_default_scope('mmseg')
    torch.manual_seed(0)
    cfg = Config.fromfile(
        osp.join(
            PROBES, 'mask-generator-head_r18-k2_1xb4-500_'
            'synthetic-shapes-32x32.py'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert type(model.decode_head).__name__ == 'MaskGeneratorHead'
    feats = model.extract_feat(torch.randn(2, 3, 32, 32))
    assert [f.shape[1] for f in feats] == [64, 128, 256, 512]
    # logits at the finest skip's stride (4)
    assert model.decode_head(feats).shape == (2, 2, 8, 8)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    resnet_before = model.backbone.conv1.weight.clone()
    losses = [
        float(model.train_step(_batch(4), wrapper)['loss']) for _ in range(25)
    ]
    assert losses[-1] < losses[0] * 0.7
    # the ResNet trains with the head (no lr_mult 0 here)
    assert not torch.equal(model.backbone.conv1.weight, resnet_before)
    model.eval()
    with torch.no_grad():
        out = model.test_step(_batch(1))
    assert out[0].pred_sem_seg.data.shape[-2:] == (32, 32)
