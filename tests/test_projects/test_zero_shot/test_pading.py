# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/zero_shot: PADing (GMMNLoss, PrimitiveGenerator,
PADingSegmentor) and the two-optimizer constructor."""
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.optim import OptimWrapperDict
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from mmseg.structures import SegDataSample
from test_projects.test_zero_shot.test_zegformer import _head_cfg

from projects.zero_shot.zero_shot import (GMMNLoss, PADingSegmentor,
                                          PrimitiveGenerator)


def test_gmmn_loss_measures_the_distance_between_feature_sets():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(64, 4, generator=g)
    loss = GMMNLoss(sigmas=(1, 4))
    same = loss(real, real)
    shuffled = loss(real[torch.randperm(64, generator=g)], real)
    near = loss(real + 0.1, real)
    far = loss(real + 2.0, real)
    assert same.item() < 1e-4 and shuffled.item() < 1e-4
    assert 0 < near.item() < far.item()
    # generated features are pulled toward the real ones
    fake = (real + 2.0).requires_grad_()
    loss(fake, real).backward()
    assert (fake.grad.mean(0) > 0).all()
    with pytest.raises(ValueError, match='GMMNLoss'):
        loss(real, real[:, :3])
    with pytest.raises(ValueError, match='sigmas'):
        GMMNLoss(sigmas=(0, 1))


def test_primitive_generator_draws_noisy_features_with_structure_loss():
    torch.manual_seed(0)
    gen = PrimitiveGenerator(
        vector_dims=3,
        embed_dims=8,
        num_primitives=5,
        num_layers=2,
        num_heads=2,
        ffn_dims=16)
    vectors = torch.eye(3)
    a, b = gen(vectors), gen(vectors)
    assert a.shape == (3, 8)
    assert not torch.allclose(a, b)  # the noise: a new draw each call
    quiet = PrimitiveGenerator(
        vector_dims=3,
        embed_dims=8,
        num_primitives=5,
        num_layers=1,
        num_heads=2,
        ffn_dims=16,
        noise=False).eval()
    assert torch.allclose(quiet(vectors), quiet(vectors))
    proj = gen.projection(vectors)
    fake_seen = gen.generate(proj[[0, 1, 1]])
    loss = gen.structure_loss(fake_seen, proj[:2], torch.tensor([0, 1, 1]),
                              gen.generate(proj[2:]), proj[2:])
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    for part in (gen.related, gen.unrelated, gen.relation, gen.reconstruct,
                 gen.primitives):
        assert any(p.grad is not None and p.grad.abs().sum() > 0
                   for p in part.parameters())
    with pytest.raises(ValueError, match='num_heads'):
        PrimitiveGenerator(vector_dims=3, embed_dims=6, num_heads=4)


def _model_cfg(tmp_path, vector_dims=3, **kwargs):
    """A tiny ZegFormer model (ResNet-18 at base width 8, 4 queries) over
    classes a, b (seen) and c (unseen); also used by the CLIP-branch
    tests."""
    cfg = dict(
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[0., 0., 0.],
            std=[1., 1., 1.],
            size=(16, 16)),
        backbone=dict(
            type='ResNet',
            depth=18,
            base_channels=8,
            stem_channels=8,
            num_stages=2,
            strides=(1, 2),
            dilations=(1, 1),
            out_indices=(0, 1)),
        decode_head=_head_cfg(tmp_path, vector_dims),
        test_cfg=ConfigDict(mode='whole'))
    cfg.update(kwargs)
    return cfg


def _batch(b=2):
    inputs, samples = [], []
    for i in range(b):
        gt = torch.zeros((1, 16, 16), dtype=torch.long)
        gt[:, 8:, :8] = 1
        gt[:, 8:, 8:] = 2  # unseen: never a training target
        img = gt.float().expand(3, -1, -1) * 60 + i
        s = SegDataSample()
        s.set_metainfo(dict(img_shape=(16, 16), ori_shape=(16, 16)))
        s.gt_sem_seg = PixelData(data=gt)
        inputs.append(img)
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def _pading(tmp_path, **kwargs):
    return MODELS.build(
        _model_cfg(
            tmp_path,
            type='PADingSegmentor',
            generator=dict(
                type='PrimitiveGenerator',
                num_primitives=6,
                num_layers=1,
                num_heads=2,
                ffn_dims=16),
            **kwargs))


def _optim(model):
    return OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(
            type='SubmoduleOptimWrapperConstructor',
            optim_wrapper_cfg=dict(
                generator=dict(
                    type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-2)),
                classifier=dict(
                    type='OptimWrapper',
                    optimizer=dict(type='SGD', lr=1e-1, momentum=0.9)))))(
                        model)


def test_pading_trains_generator_and_classifier_over_a_frozen_model(tmp_path):
    init_default_scope('mmseg')
    torch.manual_seed(0)
    stage1 = MODELS.build(_model_cfg(tmp_path))
    stage1.init_weights()
    torch.save(dict(state_dict=stage1.state_dict()), tmp_path / 's1.pth')
    model = _pading(tmp_path, frozen_checkpoint=str(tmp_path / 's1.pth'))
    assert isinstance(model, PADingSegmentor)
    assert model.unseen_classes == [2]
    optim = _optim(model)
    assert isinstance(optim, OptimWrapperDict)
    assert {id(p)
            for p in optim['classifier'].param_groups[0]['params']
            } == {id(p)
                  for p in model.classifier.parameters()}
    with pytest.raises(RuntimeError, match='frozen_checkpoint'):
        model.train_step(_batch(), optim)  # init_weights not called yet
    model.init_weights()
    model.train()
    for key, value in stage1.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    gen0 = [p.detach().clone() for p in model.generator.parameters()]
    clf0 = model.classifier.weight.detach().clone()
    for _ in range(3):
        log = model.train_step(_batch(), optim)
    assert {'loss_gmmn', 'loss_fake_cls', 'loss_structure',
            'loss_classifier'} <= set(log)
    assert all(torch.isfinite(torch.as_tensor(v)) for v in log.values())
    # the stage-1 model is untouched, the generator and classifier learn
    for key, value in stage1.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    assert any(not torch.equal(a, b)
               for a, b in zip(gen0, model.generator.parameters()))
    assert not torch.equal(clf0, model.classifier.weight)
    # inference names the frozen model's segments with the new classifier
    model.eval()
    data = model.data_preprocessor(_batch(), False)
    with torch.no_grad():
        out = model.predict(data['inputs'], data['data_samples'])
    assert out[0].pred_sem_seg.data.shape == (1, 16, 16)
    assert out[0].seg_logits.data.shape == (3, 16, 16)


def test_pading_needs_a_query_head_two_optimizers_and_an_unseen_class(
        tmp_path):
    init_default_scope('mmseg')
    model = _pading(tmp_path)
    model.init_weights()
    with pytest.raises(TypeError, match='two optimizers'):
        model.train_step(_batch(), None)
    cfg = _model_cfg(tmp_path)
    cfg['decode_head']['seen_classes'] = [0, 1, 2]
    with pytest.raises(ValueError, match='no unseen class'):
        MODELS.build(
            dict(
                cfg,
                type='PADingSegmentor',
                generator=dict(type='PrimitiveGenerator', num_heads=2)))
    with pytest.raises(AttributeError, match="no submodule 'critic'"):
        OPTIM_WRAPPER_CONSTRUCTORS.build(
            dict(
                type='SubmoduleOptimWrapperConstructor',
                optim_wrapper_cfg=dict(
                    critic=dict(
                        type='OptimWrapper',
                        optimizer=dict(type='SGD', lr=0.1)))))(
                            model)
