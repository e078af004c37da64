# Copyright (c) mmfactdiff contributors. All rights reserved.
"""DenseFeatureExtractor: any mmseg backbone's features as test outputs,
scored by DenseClusterMetric through mmengine's Runner."""
import uuid

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from projects.leopart_eval.leopart_eval import (DenseClusterMetric,
                                                DenseFeatureExtractor)

PREPROCESSOR = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size=(32, 32))
# a small mmseg ResNet-18 (V1c stem): levels at strides 4 and 8
TINY_RESNET = dict(
    type='ResNetV1c',
    depth=18,
    stem_channels=8,
    base_channels=8,
    num_stages=2,
    strides=(1, 2),
    dilations=(1, 1),
    out_indices=(0, 1),
    norm_cfg=dict(type='BN', requires_grad=False))


def _model(**kwargs) -> DenseFeatureExtractor:
    cfg = dict(
        type='DenseFeatureExtractor',
        backbone=TINY_RESNET,
        data_preprocessor=PREPROCESSOR)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _sample(**meta) -> SegDataSample:
    sample = SegDataSample()
    sample.set_metainfo(meta)
    return sample


def test_levels_are_selected_and_concatenated():
    model = _model()
    x = torch.randn(2, 3, 32, 32)
    assert model(x, mode='tensor').shape == (2, 16, 4, 4)
    model = _model(in_index=[0, 1])
    feats = model.extract_feat(x)
    assert feats.shape == (2, 24, 8, 8)
    assert torch.equal(feats[:, :8], model.backbone(x)[0])
    with pytest.raises(IndexError, match='in_index 2'):
        _model(in_index=2).extract_feat(x)
    with pytest.raises(ValueError, match='in_index'):
        _model(in_index=[])
    with pytest.raises(ValueError, match='output_size'):
        _model(output_size='input')


def test_predict_crops_padding_undoes_flips_and_resizes():
    model = _model(in_index=0)
    x = torch.randn(3, 3, 40, 40)
    full = model.extract_feat(x)  # (3, 8, 10, 10), stride 4
    samples = [
        # 32x32 image padded by 8 on the right and bottom
        _sample(ori_shape=(32, 32), padding_size=[0, 8, 0, 8]),
        _sample(ori_shape=(40, 40), flip=True, flip_direction='horizontal'),
        _sample(ori_shape=(40, 40)),
    ]
    out = model.predict(x, samples)
    assert torch.equal(out[0].seg_logits.data, full[0, :, :8, :8])
    assert torch.equal(out[1].seg_logits.data, full[1].flip(2))
    assert torch.equal(out[2].seg_logits.data, full[2])
    model = _model(in_index=0, output_size='ori_shape')
    out = model.predict(x, [_sample(ori_shape=(20, 30), padding_size=[0] * 4)])
    assert out[0].seg_logits.data.shape == (8, 20, 30)
    # without samples the maps come back as they are
    assert _model(in_index=0).predict(x)[1].seg_logits.data.shape == (8, 10,
                                                                      10)


def test_checkpoints_must_hold_the_backbone(tmp_path):
    from mmengine.runner import load_checkpoint
    model = _model()
    other = _model()
    state = {
        'backbone.' + k: v
        for k, v in other.backbone.state_dict().items()
    }
    state['decode_head.conv_seg.weight'] = torch.zeros(1)  # skipped
    path = str(tmp_path / 'ok.pth')
    torch.save(dict(state_dict=state), path)
    load_checkpoint(model, path)
    assert torch.equal(model.backbone.stem[0].weight,
                       other.backbone.stem[0].weight)
    state = {k.replace('backbone.', 'encoder.'): v for k, v in state.items()}
    torch.save(dict(state_dict=state), path)
    with pytest.raises(RuntimeError, match='lacks .* backbone/neck weights'):
        load_checkpoint(model, path)


def test_frozen_and_evaluation_only():
    model = _model()
    assert not any(p.requires_grad for p in model.parameters())
    model.train()
    assert not model.training and not model.backbone.training
    with pytest.raises(RuntimeError, match='evaluation-only'):
        model.loss(torch.zeros(1, 3, 32, 32), [_sample()])


def test_runner_test_scores_a_tiny_resnet(tmp_path):
    """DenseFeatureExtractor + DenseClusterMetric through Runner.test() on
    4 built-in synthetic images labelled by shape kind (5 classes)."""
    dataset = dict(
        type='SyntheticShapesDataset',
        num_samples=4,
        img_size=32,
        label_mode='kind',
        seed=1,
        test_mode=True,
        pipeline=[dict(type='PackSegInputs')])
    cfg = Config(
        dict(
            model=dict(
                type='DenseFeatureExtractor',
                backbone=TINY_RESNET,
                in_index=0,
                data_preprocessor=PREPROCESSOR),
            work_dir=str(tmp_path),
            test_dataloader=dict(
                batch_size=2,
                num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=False),
                dataset=dataset),
            test_evaluator=dict(
                type='DenseClusterMetric',
                pca_dim=4,
                eval_size=16,
                seeds=(0, 1)),
            test_cfg=dict(type='TestLoop'),
            default_scope='mmseg',
            env_cfg=dict(cudnn_benchmark=False),
            visualizer=dict(
                type='SegLocalVisualizer',
                name=f'visualizer-{uuid.uuid4().hex[:8]}',
                vis_backends=[dict(type='LocalVisBackend')]),
            log_level='WARNING'))
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    assert set(metrics) == {
        'dense_cluster/mIoU', 'dense_cluster/mIoU_std', 'dense_cluster/aAcc',
        'dense_cluster/mAcc'
    }
    assert 0 < metrics['dense_cluster/mIoU'] <= 100
    metric = runner.test_evaluator.metrics[0]
    assert isinstance(metric, DenseClusterMetric)
    # K defaulted to the dataset's 5 classes
    assert len(metric.last_mappings['hungarian'][0]) == 5
