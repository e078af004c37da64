# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/zero_shot: given segments (a mask source's regions, or the
labels) named by SegmentClassifierHead inside RegionClassifierSegmentor."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from projects.zero_shot.zero_shot import (RegionClassifierSegmentor,
                                          SegmentClassifierHead)
from tiny_models import tiny_segmentor

PREPROCESSOR = dict(
    type='SegDataPreProcessor',
    mean=[127.5] * 3,
    std=[127.5] * 3,
    bgr_to_rgb=True,
    size=(16, 16))


def _head_cfg(tmp_path):
    np.save(tmp_path / 'v.npy', np.eye(3, dtype=np.float32))
    return dict(
        type='SegmentClassifierHead',
        in_channels=[8, 16],
        in_index=[0, 1],
        channels=16,
        num_classes=3,
        class_embeddings=dict(
            type='ClassEmbeddings',
            class_names=['a', 'b', 'c'],
            vectors=str(tmp_path / 'v.npy')),
        seen_classes=[0, 1])


def _backbone():
    return dict(
        type='ResNet',
        depth=18,
        num_stages=2,
        out_indices=(0, 1),
        strides=(1, 2),
        dilations=(1, 1),
        base_channels=8,
        stem_channels=8)


def _samples(size=16):
    out = []
    for flip in (False, True):
        gt = torch.zeros((1, size, size), dtype=torch.long)
        gt[:, size // 2:, :size // 2] = 1
        gt[:, size // 2:, size // 2:] = 2  # unseen: never a training segment
        if flip:
            gt = gt.flip(-1)
        s = SegDataSample()
        s.set_metainfo(
            dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                pad_shape=(size, size),
                padding_size=[0, 0, 0, 0]))
        s.gt_sem_seg = PixelData(data=gt)
        out.append(s)
    return out


def _images(samples):
    """Images whose colour tells the classes apart (class c: value 80 c)."""
    return [(s.gt_sem_seg.data.float() * 80).expand(3, -1, -1).clone()
            for s in samples]


def test_every_pixel_of_a_segment_gets_its_segment_scores(tmp_path):
    init_default_scope('mmseg')
    head = MODELS.build(_head_cfg(tmp_path))
    feats = (torch.randn(2, 8, 8, 8), torch.randn(2, 16, 4, 4))
    segments = torch.zeros(2, 2, 16, 16)
    segments[:, 0, :8] = 1
    segments[:, 1, 8:] = 1
    seg = head.predict_segments(feats, segments, [dict(img_shape=(16, 16))])
    assert seg.shape == (2, 3, 16, 16)
    assert torch.allclose(seg.sum(1), torch.ones(2, 16, 16))
    top, bottom = seg[..., :8, :], seg[..., 8:, :]
    assert torch.allclose(top, top[..., :1, :1].expand_as(top))
    assert torch.allclose(bottom, bottom[..., :1, :1].expand_as(bottom))
    with pytest.raises(NotImplementedError, match='RegionClassifier'):
        head.predict(feats, [dict(img_shape=(16, 16))], {})


def test_loss_needs_a_seen_segment(tmp_path):
    init_default_scope('mmseg')
    head = MODELS.build(_head_cfg(tmp_path))
    sample = _samples()[0]
    sample.gt_sem_seg.data[:] = 2  # only the unseen class
    feats = (torch.randn(1, 8, 8, 8), torch.randn(1, 16, 4, 4))
    with pytest.raises(ValueError, match='seen_classes'):
        head.loss(feats, [sample], {})


def _model(tmp_path, mask_source=None, **head):
    return MODELS.build(
        dict(
            type='RegionClassifierSegmentor',
            data_preprocessor=PREPROCESSOR,
            backbone=_backbone(),
            decode_head=dict(_head_cfg(tmp_path), **head),
            mask_source=mask_source))


def _train_and_check(model, samples, images, steps):
    data = dict(inputs=images, data_samples=samples)
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-2))
    model.train()
    for _ in range(steps):
        model.train_step(data, optim)
    model.eval()
    for p, s in zip(model.test_step(data), samples):
        gt = s.gt_sem_seg.data[0]
        labels = p.pred_sem_seg.data[0]
        for c in (0, 1):
            assert (labels[gt == c] == c).all()


def test_learns_seen_segments_from_labels(tmp_path):
    """Trained on the seen segments, the oracle (ground-truth segments)
    names them, and follows the labels when they are swapped (so at least
    one of the two namings was learnt); the unseen class is never a
    target."""
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = _model(tmp_path)
    samples = _samples()
    images = _images(samples)
    _train_and_check(model, samples, images, 30)
    for s in samples:  # the same images, classes 0 and 1 swapped
        gt = s.gt_sem_seg.data
        s.gt_sem_seg.data = torch.where(gt < 2, 1 - gt, gt)
    _train_and_check(model, samples, images, 60)


def _source_config(tmp_path, **preprocessor):
    cfg = Config(
        dict(
            model=tiny_segmentor(
                num_regions=2,
                data_preprocessor={
                    **PREPROCESSOR,
                    **preprocessor
                })))
    path = str(tmp_path / 'source.py')
    cfg.dump(path)
    return path


def test_segments_are_the_mask_sources_regions(tmp_path):
    init_default_scope('mmseg')
    config = _source_config(tmp_path)
    torch.manual_seed(0)
    source = MODELS.build(Config.fromfile(config).model)
    ckpt = str(tmp_path / 'source.pth')
    torch.save(dict(state_dict=source.state_dict()), ckpt)
    model = _model(tmp_path, dict(config=config, checkpoint=ckpt))
    assert isinstance(model, RegionClassifierSegmentor)
    assert isinstance(model.decode_head, SegmentClassifierHead)
    for k, v in source.state_dict().items():  # loaded at build time
        assert torch.equal(model.mask_source.state_dict()[k], v)
    # checkpoints hold the classifier alone; loading one (strictly) keeps
    # whichever mask source the model was built with
    weights = model.state_dict()
    assert weights and not any(k.startswith('mask_source') for k in weights)
    other = _model(tmp_path, dict(config=config, checkpoint=None))
    other.load_state_dict(weights, strict=True)
    assert not all(
        torch.equal(other.mask_source.state_dict()[k], v)
        for k, v in source.state_dict().items())
    for k, v in weights.items():
        assert torch.equal(other.state_dict()[k], v)
    model.train()
    assert not model.mask_source.training
    assert not any(p.requires_grad for p in model.mask_source.parameters())
    samples = _samples()
    data = model.data_preprocessor(
        dict(inputs=_images(samples), data_samples=samples))
    regions = source.eval().predict_regions(data['inputs']).argmax(1)
    model.eval()
    labels = model.predict(data['inputs'], data['data_samples'])
    for i, p in enumerate(labels):
        pred = p.pred_sem_seg.data[0]
        for r in regions[i].unique():  # one class per region
            assert pred[regions[i] == r].unique().numel() == 1


def test_a_mask_source_that_normalises_otherwise_is_refused(tmp_path):
    init_default_scope('mmseg')
    config = _source_config(tmp_path, mean=[0.] * 3)
    with pytest.raises(ValueError, match='data_preprocessor.mean'):
        _model(tmp_path, dict(config=config, checkpoint=None))
    with pytest.raises(ValueError, match='mask_source takes config'):
        _model(tmp_path, dict(cfg=config))
