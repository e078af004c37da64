# Copyright (c) mmfactdiff contributors. All rights reserved.
"""DiffusionSamplingMixin on a stand-in model (no U-Net): what it asks of
its host and what it returns."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import ConfigDict
from torch import nn

import mmfactdiff  # noqa: F401  (registers the schedulers)
from mmfactdiff.models.schedulers import DDPMNoiseScheduler
from mmfactdiff.models.segmentors import DiffusionSamplingMixin


class _ZeroNoiseModel(DiffusionSamplingMixin, nn.Module):
    """Predicts zero noise and one region; counts its calls."""

    def __init__(self, img_size=None, cond_label_key=None):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.scheduler = DDPMNoiseScheduler(num_train_timesteps=20)
        self.backbone = SimpleNamespace(in_channels=3)
        self.test_cfg = ConfigDict(img_size=img_size)
        self.cond_label_key = cond_label_key
        self.calls = []

    def denoise(self, x_t, t, labels=None):
        self.calls.append(
            (int(t) if not torch.is_tensor(t) else int(t.flatten()[0]),
             labels))
        masks = torch.ones(x_t.shape[0], 1, *x_t.shape[-2:])
        return torch.zeros_like(x_t), masks


def test_sample_runs_every_step_at_the_requested_size():
    model = _ZeroNoiseModel()
    out = model.sample(
        2,
        img_size=(4, 6),
        num_steps=5,
        generator=torch.Generator().manual_seed(0))
    assert out['images'].shape == (2, 3, 4, 6)
    assert out['masks'].shape == (2, 1, 4, 6)
    assert len(model.calls) == 5
    # timesteps go down, from the noisiest
    ts = [t for t, _ in model.calls]
    assert ts == sorted(ts, reverse=True)


def test_sample_reads_img_size_from_test_cfg_and_is_seeded():
    model = _ZeroNoiseModel(img_size=5)
    a = model.sample(
        1, num_steps=3, generator=torch.Generator().manual_seed(1))
    b = model.sample(
        1, num_steps=3, generator=torch.Generator().manual_seed(1))
    assert a['images'].shape == (1, 3, 5, 5)
    assert torch.equal(a['images'], b['images'])


def test_sample_without_a_size_names_the_option():
    with pytest.raises(ValueError, match='img_size'):
        _ZeroNoiseModel().sample(1, num_steps=2)


def test_labels_are_required_exactly_for_conditional_hosts():
    cond = _ZeroNoiseModel(img_size=4, cond_label_key='label')
    with pytest.raises(ValueError, match='class-conditional'):
        cond.sample(1, num_steps=2)
    cond.sample(1, num_steps=2, labels=torch.tensor([3]))
    assert all(int(lab[0]) == 3 for _, lab in cond.calls)
    with pytest.raises(ValueError, match='class-conditional'):
        _ZeroNoiseModel(img_size=4).sample(
            1, num_steps=2, labels=torch.tensor([0]))
