# Copyright (c) mmfactdiff contributors. All rights reserved.
import pytest
import torch
from conftest import load_tool
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmfactdiff.engine import AutocastOptimWrapper


def _wrapper(**kwargs):
    model = torch.nn.Linear(4, 2)
    cfg = dict(
        type='AutocastOptimWrapper',
        optimizer=dict(type='SGD', lr=0.1),
        **kwargs)
    return model, build_optim_wrapper(model, cfg)


def test_forward_in_bfloat16_step_in_float32():
    model, wrapper = _wrapper()
    assert isinstance(wrapper, AutocastOptimWrapper)
    x = torch.randn(3, 4)
    with wrapper.optim_context(model):
        y = model(x)
    assert y.dtype == torch.bfloat16
    assert model(x).dtype == torch.float32  # only inside the context
    before = model.weight.detach().clone()
    wrapper.update_params(y.float().square().mean())
    assert model.weight.dtype == torch.float32
    assert not torch.equal(model.weight, before)


def test_float16_is_refused():
    with pytest.raises(ValueError, match='dtype'):
        _wrapper(dtype='float16')


def test_train_tool_picks_it_for_bfloat16_without_cuda(monkeypatch):
    tool = load_tool('tools/train.py')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = Config(
        dict(
            optim_wrapper=dict(
                type='OptimWrapper', optimizer=dict(type='Adam'))))
    tool.enable_amp(cfg, 'bfloat16')
    assert cfg.optim_wrapper.type == 'AutocastOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    cfg = Config(
        dict(
            optim_wrapper=dict(
                type='OptimWrapper', optimizer=dict(type='Adam'))))
    tool.enable_amp(cfg, 'float16')  # mmengine's wrapper, for a GPU
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
