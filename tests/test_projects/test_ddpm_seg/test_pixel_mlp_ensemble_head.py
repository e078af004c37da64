# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/ddpm_seg: PixelMLPEnsembleHead, DDPM-seg's ensemble of pixel
MLPs as an mmseg decode head."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from projects.ddpm_seg.ddpm_seg import PixelMLPEnsembleHead


def _head(**kwargs):
    cfg = dict(
        type='PixelMLPEnsembleHead',
        in_channels=6,
        num_classes=3,
        num_members=4,
        hidden_channels=(8, 5),
        num_train_pixels=16)
    cfg.update(kwargs)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def _samples(labels):
    out = []
    for y in labels:
        s = SegDataSample()
        s.set_metainfo(
            dict(img_shape=tuple(y.shape), ori_shape=tuple(y.shape)))
        s.gt_sem_seg = PixelData(data=y[None].long())
        out.append(s)
    return out


def _member_mlp(head, m):
    """Member ``m`` as a standalone MLP: in -> h1 -> h2 -> K, each hidden
    layer followed by ReLU then BatchNorm (DDPM-seg's pixel_classifier)."""
    convs = [c for c in head.classifiers if isinstance(c, nn.Conv2d)]
    norms = [n for n in head.classifiers if isinstance(n, nn.BatchNorm2d)]
    layers = []
    for i, conv in enumerate(convs):
        rows = conv.out_channels // head.num_members
        linear = nn.Linear(conv.weight.shape[1], rows)
        linear.weight.data = conv.weight[m * rows:(m + 1) * rows, :, 0,
                                         0].clone()
        linear.bias.data = conv.bias[m * rows:(m + 1) * rows].clone()
        layers.append(linear)
        if i < len(norms):
            bn = nn.BatchNorm1d(rows).eval()
            sl = slice(m * rows, (m + 1) * rows)
            bn.weight.data = norms[i].weight[sl].clone()
            bn.bias.data = norms[i].bias[sl].clone()
            bn.running_mean = norms[i].running_mean[sl].clone()
            bn.running_var = norms[i].running_var[sl].clone()
            layers += [nn.ReLU(), bn]
    return nn.Sequential(*layers)


def test_members_are_independent_mlps():
    head = _head()
    # give the norms statistics of their own, so a mix-up would show
    head.train()
    head.member_logits(torch.randn(4, 6, 5, 5) * 3 + 1)
    head.eval()
    assert [
        c.weight.shape[1] for c in head.classifiers
        if isinstance(c, nn.Conv2d)
    ] == [6, 8, 5]  # per member inputs
    feats = torch.randn(2, 6, 3, 4)
    with torch.no_grad():
        logits = head.member_logits(feats)  # (B, M, K, H, W)
        assert logits.shape == (2, 4, 3, 3, 4)
        pixels = feats.permute(0, 2, 3, 1).reshape(-1, 6)
        for m in range(4):
            alone = _member_mlp(head, m)(pixels).reshape(2, 3, 4, 3)
            torch.testing.assert_close(
                logits[:, m], alone.permute(0, 3, 1, 2), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('train', [True, False])
def test_members_share_no_gradient(train):
    head = _head()
    head.train(train)
    logits = head.member_logits(torch.randn(2, 6, 4, 4))
    F.cross_entropy(logits[:, 0], torch.randint(0, 3, (2, 4, 4))).backward()
    m = head.num_members
    for name, p in head.classifiers.named_parameters():
        per_member = p.grad.reshape(m, -1)
        assert per_member[0].abs().sum() > 0, name
        assert (per_member[1:] == 0).all(), name


def test_vote_shares_and_majority():
    head = _head(num_members=5, predict_mode='vote')
    # votes per pixel (5 members, 3 classes)
    votes = torch.tensor([[0, 0, 1, 2, 0], [2, 1, 2, 1, 2], [1, 1, 1, 1, 1],
                          [2, 2, 1, 1, 0]])
    logits = F.one_hot(votes.t(), 3).float()  # (M, P, K)
    logits = logits.permute(0, 2, 1)[None, ..., None]  # (1, M, K, P, 1)
    shares = head.combine(logits + 0.01 * torch.randn(logits.shape))
    assert shares.shape == (1, 3, 4, 1)
    torch.testing.assert_close(shares.sum(1), torch.ones(1, 4, 1))
    expected = torch.tensor([[3, 1, 1], [0, 2, 3], [0, 5, 0], [1, 2, 2]]) / 5
    torch.testing.assert_close(shares[0, :, :, 0].t(), expected.float())
    # argmax is the majority; a tie goes to the lower class id
    assert shares[0, :, :, 0].argmax(0).tolist() == [0, 2, 1, 1]
    majority = torch.mode(votes[:3], dim=1).values
    assert shares[0, :, :3, 0].argmax(0).tolist() == majority.tolist()
    # through forward, on random features: shares of 1 / M summing to 1
    out = head.eval()([torch.randn(2, 6, 3, 3)])
    assert out.shape == (2, 3, 3, 3)
    torch.testing.assert_close(out.sum(1), torch.ones(2, 3, 3))
    assert torch.allclose(out * 5, (out * 5).round())


def test_mean_prob():
    head = _head(predict_mode='mean_prob').eval()
    feats = torch.randn(2, 6, 3, 3)
    out = head([feats])
    expected = head.member_logits(feats).softmax(2).mean(1)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(out.sum(1), torch.ones(2, 3, 3))


def test_sample_pixels_draws_labelled_pixels_only():
    head = _head(num_train_pixels=10, ignore_index=255)
    b, h, w = 3, 6, 5
    labels = torch.randint(0, 3, (b, h, w))
    labels[0, :4] = 255  # image 0: 10 labelled pixels of 30
    labels[1] = 255  # image 1: none
    labels[1, 2, 3] = 1  # ... but one
    # each pixel's features say which image and pixel they come from
    index = torch.arange(h * w, dtype=torch.float).reshape(1, 1, h, w)
    feats = torch.cat([
        index.expand(b, 1, h, w),
        torch.arange(b, dtype=torch.float).reshape(b, 1, 1, 1).expand(
            b, 1, h, w),
        torch.randn(b, 4, h, w)
    ], 1)
    for _ in range(5):
        x, y = head.sample_pixels(feats, labels)
        assert x.shape == (y.numel(), 6) and y.dtype == torch.long
        assert (y != 255).all()
        image, pixel = x[:, 1].long(), x[:, 0].long()
        counts = torch.bincount(image, minlength=b).tolist()
        assert counts == [10, 1, 10]  # at most num_train_pixels each
        assert image.tolist() == sorted(image.tolist())  # batch order
        # the label is the drawn pixel's, each pixel drawn once
        assert torch.equal(y, labels.flatten(1)[image, pixel])
        assert len(set(zip(image.tolist(), pixel.tolist()))) == y.numel()
    # image 2 has 30 labelled pixels: the draws differ between calls
    draws = {
        tuple(head.sample_pixels(feats, labels)[0][-10:, 0].tolist())
        for _ in range(5)
    }
    assert len(draws) > 1
    with pytest.raises(ValueError, match='differ in size'):
        head.sample_pixels(feats, labels[:, :4])


def test_loss_is_the_members_mean_cross_entropy():
    head = _head(num_train_pixels=12).train()
    feats = torch.randn(2, 6, 4, 4)
    labels = torch.randint(0, 3, (2, 4, 4))
    labels[0, 0] = 255
    torch.manual_seed(7)
    losses = head.loss([feats], _samples(labels), train_cfg=dict())
    assert set(losses) == {'loss_ce', 'acc_seg'}
    torch.manual_seed(7)
    x, y = head.sample_pixels(feats, labels)
    assert y.numel() == 24
    logits = head.member_logits(x[:, :, None, None])[..., 0, 0]
    expected = sum(
        F.cross_entropy(logits[:, m], y)
        for m in range(head.num_members)) / head.num_members
    torch.testing.assert_close(losses['loss_ce'], expected)
    losses['loss_ce'].backward()
    assert all(p.grad is not None for p in head.classifiers.parameters())
    # too few labelled pixels for BatchNorm
    with pytest.raises(ValueError, match='labelled'):
        head.loss([feats], _samples(torch.full((2, 4, 4), 255)), dict())


@pytest.mark.parametrize('kwargs, field', [
    (dict(channels=8), 'channels'),
    (dict(dropout_ratio=0.1), 'dropout_ratio'),
    (dict(out_channels=1), 'out_channels'),
    (dict(predict_mode='max'), 'predict_mode'),
    (dict(num_members=0), 'num_members'),
    (dict(num_train_pixels=0), 'num_train_pixels'),
    (dict(hidden_channels=()), 'hidden_channels'),
    (dict(hidden_channels=(8, 0)), 'hidden_channels'),
])
def test_config_errors_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        _head(**kwargs)


def test_default_is_ddpm_segs_classifier():
    head = PixelMLPEnsembleHead(in_channels=8448, num_classes=21)
    assert head.num_members == 10 and head.predict_mode == 'vote'
    convs = [c for c in head.classifiers if isinstance(c, nn.Conv2d)]
    # 8448 -> 128 -> 32 -> 21, ten times
    assert [(c.in_channels, c.out_channels, c.groups)
            for c in convs] == [(8448, 1280, 1), (1280, 320, 10),
                                (320, 210, 10)]
    assert head.conv_seg is None
