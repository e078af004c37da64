# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Collapse remedies (not in the paper): the tau schedule; the removed
usage-balance loss fails loudly."""
from types import SimpleNamespace

import pytest
from mmengine.logging import MessageHub
from mmseg.registry import MODELS

from mmfactdiff.engine.hooks import TauScheduleHook
from tiny_models import tiny_segmentor


def test_removed_usage_balance_option_fails_at_build_time():
    with pytest.raises(ValueError, match='usage_balance_weight'):
        MODELS.build(tiny_segmentor(train_cfg=dict(usage_balance_weight=2.)))


def test_tau_schedule():
    hook = TauScheduleHook(start=1.0, end=0.25, end_iter=100, mode='exp')
    assert hook.tau_at(0, 1000) == pytest.approx(1.0)
    assert hook.tau_at(50, 1000) == pytest.approx(0.5)
    assert hook.tau_at(500, 1000) == pytest.approx(0.25)
    lin = TauScheduleHook(start=1.0, end=0.5)
    assert lin.tau_at(500, 1000) == pytest.approx(0.75)  # end = max_iters
    model = MODELS.build(tiny_segmentor())
    runner = SimpleNamespace(
        model=model,
        iter=500,
        max_iters=1000,
        message_hub=MessageHub.get_instance('tau'))
    lin.before_train_iter(runner, 0)
    assert model.decode_head.tau == pytest.approx(0.75)
    with pytest.raises(ValueError, match='mode'):
        TauScheduleHook(mode='cosine')
