# Copyright (c) mmfactdiff contributors. All rights reserved.
import pytest
import torch
from mmseg.registry import MODELS

from tiny_models import tiny_segmentor


def test_denoising_mse_loss_weights_and_names():
    loss = MODELS.build(dict(type='DenoisingMSELoss', loss_weight=2.))
    pred, target = torch.zeros(2, 3, 4, 4), torch.ones(2, 3, 4, 4)
    assert loss(pred, target) == pytest.approx(2.)
    # per-sample weights: only the first sample counts, mean over all
    assert loss(pred, target, torch.tensor([1., 0.])) == pytest.approx(1.)
    # computed in fp32 even for bf16 inputs
    assert loss(pred.bfloat16(), target.bfloat16()).dtype == torch.float32
    assert loss.loss_name == 'loss_denoise'
    with pytest.raises(ValueError, match='shape'):
        loss(pred, target[:, :1])
    with pytest.raises(ValueError, match='loss_name'):
        MODELS.build(dict(type='DenoisingMSELoss', loss_name='mse'))


def test_segmentor_uses_the_configured_loss_module():
    model = MODELS.build(
        tiny_segmentor(
            loss_denoise=dict(
                type='DenoisingMSELoss', loss_weight=0.,
                loss_name='loss_eps')))
    losses = model.loss(torch.randn(2, 3, 16, 16), None)
    assert 'loss_denoise' not in losses
    assert losses['loss_eps'] == 0.
