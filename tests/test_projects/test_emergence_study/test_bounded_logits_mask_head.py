# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/emergence_study: BoundedLogitsMaskHead, a collapse remedy."""
import pytest
import torch
from mmseg.registry import MODELS

from projects.emergence_study.emergence_study import BoundedLogitsMaskHead
from tiny_models import tiny_segmentor


def _model(**head):
    cfg = tiny_segmentor(num_regions=2)
    cfg['decode_head'].update(type='BoundedLogitsMaskHead', **head)
    return MODELS.build(cfg)


def test_logits_are_bounded_and_keep_their_order():
    model = _model(bound=0.5)
    head = model.decode_head
    assert isinstance(head, BoundedLogitsMaskHead)
    with torch.no_grad():
        head.conv_seg.weight.mul_(100.)  # saturated logits
    x = torch.randn(2, 3, 16, 16)
    feats = model.extract_feat(x, torch.tensor([5, 500]))
    logits = head(feats)
    raw = super(BoundedLogitsMaskHead, head).forward(feats)
    assert raw.abs().max() > 0.5
    assert logits.abs().max() <= 0.5
    assert torch.equal(logits.argmax(1), raw.argmax(1))
    # no region's probability falls below sigmoid(-2 * bound)
    probs = logits.softmax(1)
    assert probs.min() >= torch.sigmoid(torch.tensor(-1.0)) - 1e-6


def test_bound_must_be_positive():
    with pytest.raises(ValueError, match='bound must be > 0'):
        _model(bound=0.)
