# Copyright (c) mmfactdiff contributors. All rights reserved.
"""The oracle diagnostic: a decoder trained on the labels' regions, and the
tool that compares its denoising loss with a plain U-Net's."""
import json
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT, load_tool
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from projects.emergence_study.emergence_study import \
    OracleMaskSegmentor  # noqa: F401 (registers it)
from tiny_configs import train_briefly
from tiny_models import leave_zero_init, tiny_mask_head, tiny_segmentor

CONFIGS = osp.join(REPO_ROOT, 'projects/emergence_study/configs/')
ORACLE = CONFIGS + 'oracle-masks_probe-unet-k2_1xb32-1k_synthetic-shapes-32x32.py'  # noqa: E501
PLAIN = CONFIGS + 'plain-unet_probe-unet-k1_1xb32-1k_synthetic-shapes-32x32.py'  # noqa: E501
TOOL = 'projects/emergence_study/tools/oracle_gain.py'


def _oracle(**kwargs):
    cfg = tiny_segmentor(num_regions=2, **kwargs)
    cfg['type'] = 'OracleMaskSegmentor'
    return leave_zero_init(MODELS.build(cfg))


def _sample(gt):
    meta = dict(img_shape=(16, 16), ori_shape=(16, 16), pad_shape=(16, 16))
    sample = SegDataSample(metainfo=meta)
    sample.gt_sem_seg = PixelData(data=gt[None].long())
    return sample


def test_oracle_masks_are_the_labels_figure_and_ground():
    model = _oracle()
    gt = torch.zeros(16, 16)
    gt[4:8, 4:8] = 3  # any class > 0 is figure
    gt[0, 0] = 255  # ignore_index counts as ground
    masks = model.oracle_masks([_sample(gt)], (16, 16))
    assert masks.shape == (1, 2, 16, 16)
    assert masks.sum(1).eq(1).all()
    assert masks[0, 1].sum() == 16 and masks[0, 1, 4:8, 4:8].all()
    assert masks[0, 0, 0, 0] == 1
    with pytest.raises(ValueError, match='no gt_sem_seg'):
        model.oracle_masks([SegDataSample()], (16, 16))
    with pytest.raises(ValueError, match='not the image size'):
        model.oracle_masks([_sample(gt)], (8, 8))
    with pytest.raises(ValueError, match='num_classes=2'):
        cfg = tiny_segmentor(num_regions=3)
        cfg['type'] = 'OracleMaskSegmentor'
        MODELS.build(cfg)
    with pytest.raises(ValueError, match='sub_mask_head'):
        cfg = tiny_segmentor(num_regions=2, sub_mask_head=tiny_mask_head(2))
        cfg['type'] = 'OracleMaskSegmentor'
        MODELS.build(cfg)


def test_the_decoder_learns_from_the_labels_not_the_mask_generator():
    model = _oracle().train()
    gt = torch.zeros(2, 16, 16)
    gt[:, 2:10, 3:12] = 1
    losses = model.loss(torch.randn(2, 3, 16, 16), [_sample(g) for g in gt])
    assert set(losses) == {'loss_denoise'}
    losses['loss_denoise'].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.decoder.parameters())
    assert all(p.grad is None for p in model.decode_head.parameters())


def test_oracle_gain_is_zero_for_the_same_decoder_on_one_region():
    tool = load_tool(TOOL)
    plain = MODELS.build(tiny_segmentor(num_regions=1)).eval()
    leave_zero_init(plain)
    oracle = _oracle().eval()
    # the oracle with the plain U-Net's weights (mask generators aside)
    state = {
        k: v
        for k, v in plain.state_dict().items()
        if not k.startswith('decode_head.conv_seg')
    }
    oracle.load_state_dict(state, strict=False)
    images = [torch.randint(0, 255, (3, 16, 16)).float() for _ in range(3)]
    # every pixel figure: region 1 holds the whole image, as one region
    whole = [
        dict(inputs=x, data_samples=_sample(torch.ones(16, 16)))
        for x in images
    ]
    gains = tool.oracle_gain(oracle, plain, whole, [10, 50])
    assert set(gains) == {10, 50}
    assert all(abs(g) < 1e-3 for g in gains.values())
    # a split image decodes otherwise
    half = torch.zeros(16, 16)
    half[:, :8] = 1
    split = [dict(inputs=x, data_samples=_sample(half)) for x in images]
    assert abs(tool.oracle_gain(oracle, plain, split, [10])[10]) > 1e-3
    with pytest.raises(ValueError, match='K = 1'):
        tool.oracle_gain(oracle, oracle, whole, [10])


def _train(config, work):
    train_briefly(
        config, work, {
            'train_dataloader.batch_size': 4,
            'train_cfg.max_iters': 2,
            'default_hooks.checkpoint.interval': 2,
            'randomness.seed': 1,
        })
    return osp.join(work, 'iter_2.pth')


def test_oracle_and_plain_configs_train_and_the_tool_writes_rows(tmp_path):
    oracle = _train(ORACLE, str(tmp_path / 'oracle'))
    plain = _train(PLAIN, str(tmp_path / 'plain'))
    out = str(tmp_path / 'rows.json')
    new = load_tool(TOOL).main([
        '--oracle-config', ORACLE, '--oracle-checkpoint', oracle,
        '--plain-config', PLAIN, '--plain-checkpoint', plain, '--dataset',
        'synthetic_shapes', '--method', 'oracle', '--seed', '1', '--out', out,
        '--num-images', '4', '--t', '10', '30'
    ])
    with open(out) as f:
        rows = json.load(f)
    assert rows == new and sorted(r['t'] for r in rows) == [10, 30]
    row = rows[0]
    assert row['metric'] == 'oracle_gain' and row['iterations'] == 2
    assert row['labels_used'] == 64000  # the oracle's training set
    assert row['config'] == osp.relpath(ORACLE, REPO_ROOT)
    assert all(abs(r['value']) < 100 for r in rows)
