# Copyright (c) mmfactdiff contributors. All rights reserved.
import pytest
import torch
import torch.nn as nn
from mmseg.registry import MODELS

from mmfactdiff.models.utils import set_conv_padding
from tiny_models import leave_zero_init, tiny_segmentor


def test_changed_mode_equals_a_conv_built_with_it():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 4, 1))
    ref = nn.Conv2d(3, 4, 3, padding=1, padding_mode='reflect')
    ref.load_state_dict(net[0].state_dict())
    x = torch.randn(2, 3, 8, 8)
    before = net[0](x)
    assert set_conv_padding(net, 'reflect') == 1  # the 1x1 conv has none
    assert net[1].padding_mode == 'zeros'
    assert torch.allclose(net[0](x), ref(x))
    assert not torch.allclose(before, ref(x))
    with pytest.raises(ValueError, match='padding_mode'):
        set_conv_padding(net, 'mirror')


@pytest.mark.parametrize('mode,flat', [('zeros', False), ('reflect', True)])
def test_only_zero_padding_shows_the_border(mode, flat):
    """A flat image gives flat mask logits unless zero padding marks the
    border."""
    model = leave_zero_init(
        MODELS.build(tiny_segmentor(padding_mode=mode)))
    model.eval()
    x = torch.full((1, 3, 16, 16), 0.3)
    with torch.no_grad():
        logits = model.decode_head(model.backbone(x, torch.tensor([5])))
    spread = (logits - logits[..., :1, :1]).abs().max().item()
    assert (spread < 1e-5) == flat, spread


def test_segmentor_rejects_a_bad_padding_mode():
    with pytest.raises(ValueError, match='padding_mode'):
        MODELS.build(tiny_segmentor(padding_mode='mirror'))
