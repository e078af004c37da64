# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/ddpm_seg: FeatureKMeansSegmentor, DatasetDDPM-unsup (k-means
over a frozen backbone's pixel features, per image and over the split)."""
import pytest
import torch
from mmengine.runner import load_checkpoint
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmfactdiff.models.utils import per_image_kmeans
from projects.ddpm_seg.ddpm_seg import FeatureKMeansSegmentor
from projects.leopart_eval.leopart_eval import DenseClusterMetric
from tiny_models import leave_zero_init, tiny_segmentor

PREPROCESSOR = dict(
    type='SegDataPreProcessor',
    mean=[127.5] * 3,
    std=[127.5] * 3,
    bgr_to_rgb=True)


def _model(**kwargs):
    cfg = dict(
        type='FeatureKMeansSegmentor',
        data_preprocessor=PREPROCESSOR,
        backbone=dict(
            type='DiffusionFeatureBackbone',
            unet=tiny_segmentor(num_regions=1),
            img_size=16,
            blocks=(1, 3),
            steps=(5, 40),
            allow_random_weights=True),
        weights_prefix='backbone.unet.')
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    leave_zero_init(model.backbone.unet)
    return model


def _samples(n, h, w, ori=None):
    out = []
    for _ in range(n):
        s = SegDataSample()
        s.set_metainfo(dict(img_shape=(h, w), ori_shape=ori or (h, w)))
        s.gt_sem_seg = PixelData(data=torch.zeros(1, *(ori or (h, w))))
        out.append(s)
    return out


def test_per_image_clusters_are_kmeans_of_the_backbone_features():
    model = _model(num_clusters=3, kmeans_seed=2)
    assert isinstance(model, FeatureKMeansSegmentor)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    feats = model.extract_feat(x)
    assert feats.shape == (2, model.backbone.out_channels, 16, 16)
    want = per_image_kmeans(feats, 3, seed=2)
    pred = model.predict(x, _samples(2, 16, 16))
    for sample, ids in zip(pred, want):
        assert torch.equal(sample.pred_sem_seg.data[0], ids)
    # resized to the original size, as any model's prediction
    big = model.predict(x, _samples(2, 16, 16, ori=(32, 24)))
    assert big[0].pred_sem_seg.data.shape == (1, 32, 24)
    assert model.num_classes == model.out_channels == 3
    # no features in the samples unless asked for
    assert 'dense_features' not in pred[0]


def test_features_for_the_dataset_level_metric():
    model = _model(feature_field='dense_features')
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    pred = model.predict(x, _samples(3, 16, 16))
    feats = model.extract_feat(x)
    for i, sample in enumerate(pred):
        assert torch.allclose(sample.dense_features.data, feats[i])
    metric = DenseClusterMetric(
        num_clusters=None,
        feature_field='dense_features',
        eval_size=None,
        pca_dim=4,
        seeds=(0, ),
        niter=5,
        nredo=1)
    metric.dataset_meta = dict(classes=('background', 'object'))
    for sample in pred:
        sample.gt_sem_seg = PixelData(
            data=(torch.rand(1, 16, 16) > 0.5).long())
    metric.process({}, [s.to_dict() for s in pred])
    out = metric.compute_metrics(metric.results)
    assert 0 <= out['mIoU'] <= 100


def test_plain_unet_checkpoint_loads_through_weights_prefix(tmp_path):
    # a tools/train.py checkpoint of the plain U-Net: its own keys
    unet = MODELS.build(tiny_segmentor(num_regions=1))
    leave_zero_init(unet, seed=3)
    path = str(tmp_path / 'plain.pth')
    torch.save(dict(state_dict=unet.state_dict(), meta=dict()), path)
    model = _model()
    noise = model.backbone.noise.clone()
    load_checkpoint(model, path, map_location='cpu', strict=False)
    for key, value in unet.state_dict().items():
        assert torch.equal(model.state_dict()['backbone.unet.' + key], value)
    # the fixed noise is the backbone's own, not in the checkpoint
    assert torch.equal(model.backbone.noise, noise)
    # this model's own checkpoint loads as it is
    own = str(tmp_path / 'own.pth')
    torch.save(dict(state_dict=model.state_dict()), own)
    fresh = _model()
    load_checkpoint(fresh, own, map_location='cpu', strict=False)
    for key, value in unet.state_dict().items():
        assert torch.equal(fresh.state_dict()['backbone.unet.' + key], value)


def test_refuses_checkpoints_without_the_backbone(tmp_path):
    unet = MODELS.build(tiny_segmentor(num_regions=1))
    path = str(tmp_path / 'plain.pth')
    torch.save(dict(state_dict=unet.state_dict()), path)
    # without weights_prefix the plain U-Net's keys are not this model's
    with pytest.raises(RuntimeError, match='lacks .* backbone weights'):
        load_checkpoint(_model(weights_prefix=None), path, map_location='cpu')
    half = {
        k: v
        for k, v in unet.state_dict().items() if not k.startswith('decoder.')
    }
    torch.save(dict(state_dict=half), path)
    with pytest.raises(RuntimeError, match='backbone.unet.decoder'):
        load_checkpoint(_model(), path, map_location='cpu')


def test_frozen_evaluation_only_and_checked_arguments():
    model = _model()
    model.train()
    assert not model.training and not model.backbone.unet.training
    assert not any(p.requires_grad for p in model.parameters())
    with pytest.raises(RuntimeError, match='nothing to train'):
        model.loss(torch.zeros(1, 3, 16, 16), _samples(1, 16, 16))
    with pytest.raises(ValueError, match='num_clusters'):
        _model(num_clusters=0)
    with pytest.raises(ValueError, match='n_init'):
        _model(n_init=0)
    with pytest.raises(ValueError, match='feature_field'):
        _model(feature_field='')
