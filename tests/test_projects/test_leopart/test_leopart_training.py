# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/leopart: multi-crop views and their boxes, Sinkhorn, the
aligned clustering loss and the student-teacher model."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmcv.ops import roi_align
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmseg.registry import MODELS

from projects.leopart.leopart import (Leopart, LeopartHead, LeopartMultiCrop,
                                      MultiCropDataPreprocessor,
                                      PackMultiCropInputs, crop_pair_boxes,
                                      sinkhorn)


def test_crop_pair_boxes_by_hand():
    # image 100x100; global crop (0, 0)-(50, 50) drawn at 25 px; local crop
    # (25, 25)-(75, 75) drawn at 10 px: they share (25, 25)-(50, 50)
    boxes = torch.tensor([[0., 0., 50., 50.], [0., 0., 100., 100.],
                          [25., 25., 75., 75.]])
    gc, all_ = crop_pair_boxes(boxes, [25, 40, 10], num_global=2)
    assert gc.shape == (2, 3, 4) and all_.shape == (3, 2, 4)
    assert torch.allclose(gc[0, 2], torch.tensor([12.5, 12.5, 25., 25.]))
    assert torch.allclose(all_[2, 0], torch.tensor([0., 0., 5., 5.]))
    # the second global crop is the whole image, at 40 px
    assert torch.allclose(gc[1, 2], torch.tensor([10., 10., 30., 30.]))
    assert torch.allclose(all_[2, 1], torch.tensor([0., 0., 10., 10.]))
    with pytest.raises(ValueError, match='does not overlap'):
        crop_pair_boxes(
            torch.tensor([[0., 0., 10., 10.], [0., 0., 10., 10.],
                          [50., 50., 60., 60.]]), [8, 8, 4], 2)


def test_views_agree_on_their_overlaps(monkeypatch):
    """The boxes point at the same image content in both crops."""
    monkeypatch.setattr(LeopartMultiCrop, '_colour', lambda self, x: x)
    yy, xx = np.mgrid[0:64, 0:64]
    img = np.stack([xx * 4, yy * 4, (xx + yy) * 2], -1).astype(np.uint8)
    t = LeopartMultiCrop(
        sizes=(32, 16), mean=(0, 0, 0), std=(1, 1, 1), to_rgb=False)
    torch.manual_seed(0)
    np.random.seed(0)
    import random
    random.seed(0)
    for _ in range(5):
        out = t.transform(dict(img=img))
        crops = [c[None] for c in out['crops']]
        assert [c.shape[-1] for c in crops] == [32, 32, 16, 16, 16, 16]
        for g in range(2):
            for v in range(6):
                a = roi_align(
                    crops[g],
                    torch.cat([torch.zeros(1), out['gc_boxes'][g, v]])[None],
                    3, 1.0, 0, 'avg', True)
                b = roi_align(
                    crops[v],
                    torch.cat([torch.zeros(1), out['all_boxes'][v, g]])[None],
                    3, 1.0, 0, 'avg', True)
                # a smooth ramp resampled two ways: a few grey levels apart
                assert (a - b).abs().max() < 0.08


def test_pack_and_batch():
    t = LeopartMultiCrop(sizes=(16, 8))
    img = (np.random.RandomState(0).rand(24, 24, 3) * 255).astype(np.uint8)
    samples = [PackMultiCropInputs()(t(dict(img=img))) for _ in range(3)]
    # mmengine's pseudo_collate hands the crops over crop-major
    from mmengine.dataset import pseudo_collate
    batch = MultiCropDataPreprocessor()(pseudo_collate(samples))
    assert [tuple(x.shape) for x in batch['inputs']] == \
        [(3, 3, 16, 16)] * 2 + [(3, 3, 8, 8)] * 4
    assert batch['data_samples'][0].gc_boxes.shape == (2, 6, 4)
    with pytest.raises(KeyError, match='LeopartMultiCrop'):
        PackMultiCropInputs()(dict(img=img))
    with pytest.raises(ValueError, match='min_intersection'):
        LeopartMultiCrop(min_intersection=0.)


def test_sinkhorn_rows_and_columns():
    scores = torch.randn(60, 5) * 3
    q = sinkhorn(scores, epsilon=0.5, iterations=50)
    assert torch.allclose(q.sum(1), torch.ones(60), atol=1e-5)
    # equipartition: every prototype takes about N / P of the mass
    assert torch.allclose(q.sum(0), torch.full((5, ), 12.), atol=0.05)
    # cosine scores at the official epsilon (exp(20)) stay finite
    cos = torch.rand(50, 300) * 2 - 1
    assert torch.isfinite(sinkhorn(cos, 0.05, 3)).all()


def _tiny(**kwargs):
    cfg = dict(
        type='Leopart',
        patch_size=4,
        backbone=dict(
            type='VisionTransformer',
            img_size=16,
            patch_size=4,
            embed_dims=16,
            num_layers=1,
            num_heads=2,
            qkv_bias=True,
            patch_bias=True,
            final_norm=True),
        head=dict(
            type='LeopartHead',
            in_channels=16,
            hidden_channels=32,
            out_channels=8,
            num_prototypes=6,
            roi_size=3))
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _batch(n=4):
    t = LeopartMultiCrop(sizes=(16, 8))
    rng = np.random.RandomState(0)
    samples = [
        PackMultiCropInputs()(t(
            dict(img=(rng.rand(24, 24, 3) * 255).astype(np.uint8))))
        for _ in range(n)
    ]
    from mmengine.dataset import pseudo_collate
    return pseudo_collate(samples)


def test_loss_learns_a_fixed_batch_and_teacher_follows():
    torch.manual_seed(0)
    model = _tiny()
    assert isinstance(model, Leopart)
    teacher0 = model.teacher.module[0].layers[0].ln1.weight.clone()
    assert torch.equal(teacher0, model.backbone.layers[0].ln1.weight)
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=3e-3))
    hub = MessageHub.get_instance('leopart-test')
    hub.update_info('max_iters', 30)
    data = _batch()
    losses = []
    for it in range(30):
        hub.update_info('iter', it)
        log = model.train_step(data, optim)
        losses.append(float(log['loss']))
    assert losses[-1] < losses[0] - 0.1
    # prototypes renormalised every step
    w = model.head.prototypes.weight
    assert torch.allclose(w.norm(dim=1), torch.ones(6), atol=0.05)
    # the teacher moved towards the student (momentum < 1), not onto it
    t = model.teacher.module[0].layers[0].ln1.weight
    s = model.backbone.layers[0].ln1.weight
    assert not torch.equal(t, s) and not torch.equal(t, teacher0)
    assert 0.9995 <= float(log['teacher_momentum']) <= 1.0
    # the checkpoint's backbone.* are plain mmseg ViT keys (the evaluator's)
    assert 'backbone.layers.0.ln1.weight' in model.state_dict()


def test_modes_and_checked_arguments():
    model = _tiny()
    feats = model(torch.randn(2, 3, 16, 16), mode='tensor')
    assert feats.shape == (2, 16, 4, 4)
    with pytest.raises(RuntimeError, match='leopart_eval'):
        model(torch.randn(1, 3, 16, 16), mode='predict')
    with pytest.raises(ValueError, match='teacher_momentum'):
        _tiny(teacher_momentum=1.1)
    with pytest.raises(ValueError, match='load_head'):
        _tiny(load_head=True)
    with pytest.raises(ValueError, match='num_layers'):
        LeopartHead(in_channels=4, num_layers=0)


def test_queue_joins_the_equipartition():
    head = LeopartHead(
        in_channels=4,
        hidden_channels=8,
        out_channels=4,
        num_prototypes=3,
        queue_length=10,
        num_global_crops=2)
    emb = F.normalize(torch.randn(8, 4), dim=1)
    scores = head.prototypes(emb)
    q = head._assign(scores, emb, slot=1, batch=1)
    assert q.shape == (8, 3)
    # 10 a step at most, newest first; used once the queue is full
    assert head.queue[1, :8].abs().sum() > 0 and head.queue[0].sum() == 0
    head._assign(scores, emb, slot=1, batch=1)
    assert bool(head.queue[1, -1].any())
    q = head._assign(scores, emb, slot=1, batch=1)
    assert q.shape == (8, 3)
    assert torch.allclose(q.sum(1), torch.ones(8), atol=1e-5)
