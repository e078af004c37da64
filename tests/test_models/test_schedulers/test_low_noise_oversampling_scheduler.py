# Copyright (c) mmfactdiff contributors. All rights reserved.
"""LowNoiseOversamplingScheduler: training timesteps drawn more often at
low noise, every timestep still reachable."""
import pytest
import torch
from mmengine.registry import init_default_scope

from mmfactdiff.models.schedulers import (DDPMNoiseScheduler,
                                          LowNoiseOversamplingScheduler)
from mmfactdiff.registry import DIFFUSION_SCHEDULERS


def test_timesteps_oversample_the_low_noise_range():
    init_default_scope('mmseg')
    sched = DIFFUSION_SCHEDULERS.build(
        dict(
            type='LowNoiseOversamplingScheduler',
            num_train_timesteps=100,
            low_t_max=20,
            low_t_prob=0.5))
    assert isinstance(sched, LowNoiseOversamplingScheduler)
    g = torch.Generator().manual_seed(0)
    t = sched.sample_timesteps(20000, generator=g)
    assert t.shape == (20000, ) and t.dtype == torch.long
    # half from [0, 20), half uniform: P(t < 20) = 0.5 + 0.5 * 0.2
    assert (t < 20).float().mean().item() == pytest.approx(0.6, abs=0.02)
    assert t.min() == 0 and t.max() == 99  # every level still trained
    assert len(t.unique()) == 100
    plain = DDPMNoiseScheduler(num_train_timesteps=100)
    u = plain.sample_timesteps(20000, generator=g)
    assert (u < 20).float().mean().item() == pytest.approx(0.2, abs=0.02)
    # the noising and the schedule are the parent's
    assert torch.equal(sched.alphas_cumprod, plain.alphas_cumprod)
    # low_t_prob=0 is the plain uniform draw
    none = LowNoiseOversamplingScheduler(
        num_train_timesteps=100, low_t_max=20, low_t_prob=0.)
    v = none.sample_timesteps(20000, generator=g)
    assert (v < 20).float().mean().item() == pytest.approx(0.2, abs=0.02)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match='low_t_max'):
        LowNoiseOversamplingScheduler(num_train_timesteps=100, low_t_max=101)
    with pytest.raises(ValueError, match='low_t_prob'):
        LowNoiseOversamplingScheduler(low_t_prob=1.5)
