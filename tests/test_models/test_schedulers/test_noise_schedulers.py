# Copyright (c) mmfactdiff contributors. All rights reserved.
import math

import pytest
import torch

from mmfactdiff.registry import DIFFUSION_SCHEDULERS


def _build(**kwargs):
    return DIFFUSION_SCHEDULERS.build(
        dict(type='DDPMNoiseScheduler', **kwargs))


def test_linear_and_cosine_betas():
    s = _build(num_train_timesteps=10, beta_start=0.1, beta_end=0.5)
    assert torch.allclose(s.betas,
                          torch.linspace(0.1, 0.5, 10, dtype=torch.float64))
    c = _build(num_train_timesteps=1000, beta_schedule='cosine')
    f = [
        math.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2)**2
        for t in (0, 1, 500, 501)
    ]
    assert c.betas[0].item() == pytest.approx(1 - f[1] / f[0])
    assert c.betas[500].item() == pytest.approx(1 - f[3] / f[2])
    # cosine keeps more signal at mid t than linear
    lin = _build()
    assert c.alphas_cumprod[500] > lin.alphas_cumprod[500]


def test_add_noise_batched_per_sample_closed_form():
    s = _build()
    x0 = torch.randn(3, 2, 4, 4)
    eps = torch.randn(3, 2, 4, 4)
    t = torch.tensor([0, 250, 999])
    xt = s.add_noise(x0, eps, t)
    for i, ti in enumerate(t.tolist()):
        abar = torch.prod(
            1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)[:ti + 1])
        expected = abar.sqrt() * x0[i] + (1 - abar).sqrt() * eps[i]
        assert torch.allclose(xt[i], expected.float(), atol=1e-5)
    # one scalar timestep for the batch
    assert torch.allclose(s.add_noise(x0, eps, 250)[1], xt[1])
    with pytest.raises(ValueError, match='timesteps'):
        s.add_noise(x0, eps, torch.tensor([1, 2]))
    with pytest.raises(ValueError, match='must lie in'):
        s.add_noise(x0, eps, 1000)


def test_uniform_timestep_sampling():
    s = _build(num_train_timesteps=10)
    g = torch.Generator().manual_seed(0)
    t = s.sample_timesteps(20000, generator=g)
    assert t.min() == 0 and t.max() == 9
    counts = torch.bincount(t, minlength=10).float() / 20000
    assert torch.allclose(counts, torch.full((10, ), 0.1), atol=0.015)


def test_ddpm_step_matches_posterior_closed_form():
    s = _build(clip_sample=False)
    x_t = torch.randn(2, 3, 4, 4)
    eps = torch.randn(2, 3, 4, 4)
    z = torch.randn(2, 3, 4, 4)
    t = 600
    b = s.betas[t].item()
    a = 1 - b
    abar = s.alphas_cumprod[t].item()
    abar_prev = s.alphas_cumprod[t - 1].item()
    x0 = (x_t - math.sqrt(1 - abar) * eps) / math.sqrt(abar)
    mean = (
        math.sqrt(abar_prev) * b / (1 - abar) * x0 + math.sqrt(a) *
        (1 - abar_prev) / (1 - abar) * x_t)
    var = (1 - abar_prev) / (1 - abar) * b
    out = s.step(eps, t, x_t, noise=z)
    assert torch.allclose(out['pred_original_sample'], x0, atol=1e-5)
    assert torch.allclose(out['mean'], mean, atol=1e-5)
    assert torch.allclose(
        out['prev_sample'], mean + math.sqrt(var) * z, atol=1e-5)
    # the equivalent eps form of the mean (Ho et al., eq. 11)
    mean_eps = (x_t - b / math.sqrt(1 - abar) * eps) / math.sqrt(a)
    assert torch.allclose(out['mean'], mean_eps, atol=1e-4)
    # at t = 0 no noise is added
    assert torch.equal(
        s.step(eps, 0, x_t)['prev_sample'],
        s.step(eps, 0, x_t)['mean'])


def test_strided_timesteps():
    s = _build()
    s.set_timesteps(50)
    assert s.timesteps[0] == 980 and s.timesteps[-1] == 0
    assert len(s.timesteps) == 50
    assert s.previous_timestep(980) == 960
    with pytest.raises(ValueError, match='num_inference_steps'):
        s.set_timesteps(0)


def test_ddim_step_closed_form_and_determinism():
    s = DIFFUSION_SCHEDULERS.build(
        dict(type='DDIMNoiseScheduler', clip_sample=False))
    s.set_timesteps(10)
    x_t = torch.randn(1, 3, 4, 4)
    eps = torch.randn(1, 3, 4, 4)
    t, prev = 900, 800
    a_t = s.alphas_cumprod[t].item()
    a_p = s.alphas_cumprod[prev].item()
    x0 = (x_t - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    expected = math.sqrt(a_p) * x0 + math.sqrt(1 - a_p) * eps
    out = s.step(eps, t, x_t)
    assert torch.allclose(out['prev_sample'], expected, atol=1e-5)
    assert torch.equal(out['prev_sample'], s.step(eps, t, x_t)['prev_sample'])
    # last step goes to alpha = 1: the prediction of x0
    last = s.step(eps, 0, x_t)['prev_sample']
    assert torch.allclose(last, s.step(eps, 0, x_t)['pred_original_sample'])


def test_ddim_matches_diffusers():
    diffusers = pytest.importorskip('diffusers')
    ours = DIFFUSION_SCHEDULERS.build(dict(type='DDIMNoiseScheduler'))
    theirs = diffusers.DDIMScheduler(
        num_train_timesteps=1000, beta_schedule='linear')
    ours.set_timesteps(20)
    theirs.set_timesteps(20)
    assert ours.timesteps.tolist() == theirs.timesteps.tolist()
    x = torch.randn(1, 3, 8, 8)
    for t in ours.timesteps[:5]:
        eps = torch.randn_like(x)
        a = ours.step(eps, t, x)['prev_sample']
        b = theirs.step(eps, t, x)['prev_sample']
        assert torch.allclose(a, b, atol=1e-5)
        x = a
