# Copyright (c) mmfactdiff contributors. All rights reserved.
"""The GPU performance switches, checked on the CPU: gradient checkpointing
and channels_last change nothing but memory layout and recomputation; bf16
autocast runs the convolutions in bf16 and trains through mmengine's
AmpOptimWrapper; the Runner's ``compile`` key compiles our train step."""
import os.path as osp

import pytest
import torch
from conftest import load_tool
from mmengine.config import Config
from mmengine.runner import Runner
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from tiny_configs import tiny_config
from tiny_models import leave_zero_init, tiny_segmentor


def _pair(**switch):
    """A reference model and a switched one with the same weights."""
    ref = leave_zero_init(MODELS.build(tiny_segmentor()))
    other = MODELS.build(tiny_segmentor(**switch))
    other.load_state_dict(ref.state_dict())
    return ref, other


def _loss_and_grads(model, x, seed=0):
    model.train()
    model.zero_grad()
    torch.manual_seed(seed)
    loss = model.loss(x, None)['loss_denoise']
    loss.backward()
    return loss.detach(), {
        n: p.grad.clone()
        for n, p in model.named_parameters() if p.grad is not None
    }


def _assert_same_training(ref, other, atol):
    x = torch.randn(2, 3, 16, 16)
    loss_a, grads_a = _loss_and_grads(ref, x)
    loss_b, grads_b = _loss_and_grads(other, x)
    torch.testing.assert_close(loss_b, loss_a, atol=atol, rtol=1e-4)
    assert grads_a.keys() == grads_b.keys()
    for name in grads_a:
        torch.testing.assert_close(
            grads_b[name], grads_a[name], atol=atol, rtol=1e-3, msg=name)


def test_with_cp_switch_reaches_every_part_and_changes_no_numbers():
    ref, cp = _pair(with_cp=True)
    blocks = [
        m for part in (cp.backbone, cp.decode_head, cp.decoder)
        for m in part.modules() if hasattr(m, 'with_cp')
    ]
    assert blocks and all(m.with_cp for m in blocks)
    assert not any(m.with_cp for m in ref.modules() if hasattr(m, 'with_cp'))
    _assert_same_training(ref, cp, atol=1e-6)
    # checkpointed blocks really recompute: their forward runs again in
    # the backward pass
    block = cp.decoder.decoders[0]['trunk'].blocks[0][0].in_layers
    calls = []
    block.register_forward_hook(lambda *args: calls.append(1))
    loss = cp.loss(torch.randn(2, 3, 16, 16), None)['loss_denoise']
    n_forward = len(calls)
    loss.backward()
    assert n_forward == 1 and len(calls) == 2


def test_with_cp_switch_off_overrides_the_parts():
    cfg = tiny_segmentor(with_cp=False)
    cfg['backbone']['with_cp'] = True
    model = MODELS.build(cfg)
    assert not any(m.with_cp for m in model.modules() if hasattr(m, 'with_cp'))


def test_channels_last_switch_converts_weights_and_inputs():
    ref, cl = _pair(channels_last=True)
    conv = cl.backbone.stem
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert not ref.backbone.stem.weight.is_contiguous(
        memory_format=torch.channels_last)
    seen = []
    conv.register_forward_pre_hook(lambda mod, args: seen.append(args[
        0].is_contiguous(memory_format=torch.channels_last)))
    x = torch.randn(2, 3, 16, 16)
    ref.eval(), cl.eval()
    with torch.no_grad():
        eps_a, masks_a = ref.denoise(x, torch.tensor([5, 50]))
        eps_b, masks_b = cl.denoise(x, torch.tensor([5, 50]))
        seg_a, seg_b = ref._forward(x), cl._forward(x)
    assert seen and all(seen)
    torch.testing.assert_close(eps_b, eps_a, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(masks_b, masks_a, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(seg_b, seg_a, atol=1e-5, rtol=1e-4)
    _assert_same_training(ref, cl, atol=1e-5)


def test_bf16_autocast_runs_convolutions_in_bf16_and_trains():
    model = leave_zero_init(MODELS.build(tiny_segmentor()))
    dtypes = []
    model.decoder.decoders[0]['out'][-1].register_forward_hook(
        lambda mod, args, out: dtypes.append(out.dtype))
    x = torch.randn(2, 3, 16, 16)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = model.loss(x, None)['loss_denoise']
    assert dtypes == [torch.bfloat16]
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    loss.backward()
    for part in (model.backbone, model.decode_head, model.decoder):
        grads = [p.grad for p in part.parameters() if p.grad is not None]
        assert grads and all(torch.isfinite(g).all() for g in grads)
        assert all(g.dtype == torch.float32 for g in grads)


def test_amp_optim_wrapper_bf16_train_step(monkeypatch):
    """mmengine builds AmpOptimWrapper only with an accelerator; lifting that
    check runs its bf16 path (autocast + loss scaler) on the CPU."""
    from mmengine.optim.optimizer import amp_optimizer_wrapper
    monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available',
                        lambda: True)
    model = leave_zero_init(MODELS.build(tiny_segmentor()))
    wrapper = amp_optimizer_wrapper.AmpOptimWrapper(
        optimizer=torch.optim.Adam(model.parameters(), lr=1e-3),
        dtype='bfloat16')
    assert wrapper.cast_dtype == torch.bfloat16
    dtypes = []
    model.backbone.stem.register_forward_hook(
        lambda mod, args, out: dtypes.append(out.dtype))
    before = model.decoder.decoders[0]['out'][-1].weight.detach().clone()
    data = dict(
        inputs=[torch.randint(0, 256, (3, 16, 16), dtype=torch.uint8)] * 2,
        data_samples=[
            SegDataSample(metainfo=dict(img_shape=(16, 16))) for _ in range(2)
        ])
    losses = model.train_step(data, wrapper)
    assert torch.isfinite(losses['loss_denoise'])
    assert dtypes == [torch.bfloat16]
    after = model.decoder.decoders[0]['out'][-1].weight
    assert not torch.equal(before, after)


@pytest.mark.parametrize('dtype', [None, 'bfloat16', 'float16'])
def test_train_tool_amp_switch(dtype, monkeypatch):
    """On a CUDA machine --amp selects mmengine's AmpOptimWrapper (CPUs
    with bfloat16: test_autocast_optim_wrapper.py)."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    train = load_tool('tools/train.py')
    cfg = Config(
        dict(
            optim_wrapper=dict(
                type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))))
    train.enable_amp(cfg, dtype)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.get('dtype') == dtype
    bad = Config(dict(optim_wrapper=dict(type='ApexOptimWrapper')))
    with pytest.raises(ValueError, match='OptimWrapper'):
        train.enable_amp(bad, dtype)


def test_runner_compile_key_compiles_the_train_step(tmp_path):
    # the eager backend exercises dynamo's tracing of our model without
    # the C++ compilation of inductor (which the GPU run uses)
    cfg = tiny_config(
        str(tmp_path), max_iters=2, compile=dict(backend='eager'))
    runner = Runner.from_cfg(cfg)
    runner.train()
    step = runner.model.train_step
    assert hasattr(step, '_torchdynamo_orig_callable')
    assert osp.isfile(osp.join(str(tmp_path), 'iter_2.pth'))


def test_switched_model_state_dicts_load_into_each_other():
    ref, cl = _pair(channels_last=True, with_cp=True)
    plain = MODELS.build(tiny_segmentor())
    plain.load_state_dict(cl.state_dict())
    x = torch.randn(1, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(plain.eval()._forward(x),
                                   ref.eval()._forward(x))
