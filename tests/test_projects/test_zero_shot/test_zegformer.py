# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/zero_shot: ZegFormerHead (queries, Hungarian matching, cosine
class logits against frozen class embeddings) and the seen/unseen
metric."""
import numpy as np
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from projects.zero_shot.zero_shot import SeenUnseenIoUMetric, ZegFormerHead


def _head_cfg(tmp_path, vector_dims=3, **kwargs):
    """A tiny ZegFormerHead over classes a, b (seen) and c (unseen), on
    8- and 16-channel inputs; also the head of test_pading's models."""
    np.save(tmp_path / 'v.npy', np.eye(3, vector_dims, dtype=np.float32))
    cfg = dict(
        type='ZegFormerHead',
        in_channels=[8, 16],
        in_index=[0, 1],
        channels=16,
        num_classes=3,
        class_embeddings=dict(
            type='ClassEmbeddings',
            class_names=['a', 'b', 'c'],
            vectors=str(tmp_path / 'v.npy')),
        seen_classes=[0, 1],
        num_queries=4,
        num_decoder_layers=1,
        num_heads=2)
    cfg.update(kwargs)
    return cfg


def _head(tmp_path, **kwargs):
    return MODELS.build(_head_cfg(tmp_path, **kwargs))


def _feats(b=2):
    g = torch.Generator().manual_seed(0)
    return (torch.randn(b, 8, 8, 8,
                        generator=g), torch.randn(b, 16, 4, 4, generator=g))


def _samples(b=2):
    out = []
    for i in range(b):
        gt = torch.full((1, 8, 8), 255, dtype=torch.long)
        gt[:, :4] = 0
        gt[:, 4:, :4] = 1
        gt[:, 4:, 4:] = 2  # an unseen class: ignored in training
        s = SegDataSample()
        s.set_metainfo(dict(img_shape=(8, 8), ori_shape=(8, 8)))
        s.gt_sem_seg = PixelData(data=gt)
        out.append(s)
    return out


def test_forward_scores_every_class_and_the_background(tmp_path):
    init_default_scope('mmseg')
    head = _head(tmp_path)
    assert isinstance(head, ZegFormerHead)
    cls, masks = head(_feats())
    assert cls.shape == (2, 4, 4) and masks.shape == (2, 4, 8, 8)
    # cosine logits at temperature 0.01: within +-100
    assert cls.abs().max() <= 100 + 1e-3
    seg = head.predict(_feats(), [dict(img_shape=(16, 16))] * 2, {})
    assert seg.shape == (2, 3, 16, 16)


def test_training_ignores_unseen_pixels_and_learns(tmp_path):
    init_default_scope('mmseg')
    torch.manual_seed(0)
    head = _head(tmp_path)
    feats, samples = _feats(), _samples()
    # the unseen class's pixels do not count: relabelling them changes
    # no loss
    losses = head.loss(feats, samples, {})
    other = _samples()
    for s in other:
        s.gt_sem_seg.data[s.gt_sem_seg.data == 2] = 255
    torch.manual_seed(0)
    again = head.loss(feats, other, {})
    for k in losses:
        assert torch.allclose(losses[k], again[k])
    optim = OptimWrapper(torch.optim.Adam(head.parameters(), lr=1e-2))
    first = None
    for _ in range(30):
        total = sum(head.loss(feats, samples, {}).values())
        first = first if first is not None else float(total)
        optim.update_params(total)
    assert float(total) < 0.5 * first
    # the class embeddings stay frozen
    assert not any(p.requires_grad for p in head.class_embeddings.parameters())


def test_checked_arguments(tmp_path):
    init_default_scope('mmseg')
    with pytest.raises(ValueError, match='seen_classes'):
        _head(tmp_path, seen_classes=[3])
    with pytest.raises(ValueError, match='num_classes=4'):
        _head(tmp_path, num_classes=4)


def test_seen_unseen_metric():
    metric = SeenUnseenIoUMetric(
        seen_classes=[0, 1], unseen_classes=[2], class_names=['a', 'b', 'c'])
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    gt = torch.tensor([[0, 0, 1, 1], [2, 2, 255, 255]])
    pred = torch.tensor([[0, 0, 1, 0], [2, 0, 1, 1]])
    sample = dict(
        pred_sem_seg=dict(data=pred[None]), gt_sem_seg=dict(data=gt[None]))
    metric.process({}, [sample])
    out = metric.compute_metrics(metric.results)
    # a: 2 / 4, b: 1 / 2, c: 1 / 2
    assert out['mIoU_seen'] == pytest.approx(50.0)
    assert out['mIoU_unseen'] == pytest.approx(50.0)
    assert out['hIoU'] == pytest.approx(50.0)
    with pytest.raises(ValueError, match='disjoint'):
        SeenUnseenIoUMetric(seen_classes=[0], unseen_classes=[0])


def test_seen_calibration_lowers_only_the_seen_scores(tmp_path):
    init_default_scope('mmseg')
    torch.manual_seed(0)
    head = _head(tmp_path)
    torch.manual_seed(0)
    calibrated = _head(tmp_path, seen_calibration=0.1)
    calibrated.load_state_dict(head.state_dict())
    metas = [dict(img_shape=(8, 8))] * 2
    head.eval()
    calibrated.eval()
    with torch.no_grad():
        a = head.predict(_feats(), metas, {})
        b = calibrated.predict(_feats(), metas, {})
    # seen classes 0 and 1 lose 0.1 everywhere, the unseen class 2 nothing
    assert torch.allclose(b[:, :2], a[:, :2] - 0.1, atol=1e-6)
    assert torch.equal(b[:, 2], a[:, 2])
