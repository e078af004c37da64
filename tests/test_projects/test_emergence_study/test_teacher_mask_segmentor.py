# Copyright (c) mmfactdiff contributors. All rights reserved.
"""TeacherMaskSegmentor: the study's slow-teacher mask remedy."""
import pytest
import torch
from mmseg.registry import MODELS

from projects.emergence_study.emergence_study import \
    TeacherMaskSegmentor  # noqa: F401 (registers it)
from tiny_models import leave_zero_init, tiny_segmentor

GUMBEL = dict(mask_sampling='gumbel', gumbel_noise_stride=1)


def _model(momentum=0.5, **kwargs):
    model = MODELS.build(
        tiny_segmentor(
            num_regions=2,
            type='TeacherMaskSegmentor',
            teacher_momentum=momentum,
            decode_head=GUMBEL,
            **kwargs))
    model.init_weights()
    return leave_zero_init(model)


def test_teacher_starts_as_the_initialised_student():
    model = MODELS.build(
        tiny_segmentor(
            num_regions=2, type='TeacherMaskSegmentor', decode_head=GUMBEL))
    model.init_weights()
    for name in ('backbone', 'decode_head'):
        student = getattr(model, name).state_dict()
        teacher = model.mask_teacher[name].state_dict()
        assert all(torch.equal(student[k], teacher[k]) for k in student)
    assert not any(p.requires_grad for p in model.mask_teacher.parameters())


def test_training_masks_are_the_teachers_samples_gradient_the_students():
    model = _model()
    model.train()
    with torch.no_grad():
        # the teacher puts every pixel in region 1, the student does not
        model.mask_teacher['decode_head'].conv_seg.bias.copy_(
            torch.tensor([-50., 50.]))
        model.decode_head.conv_seg.bias.copy_(torch.tensor([50., -50.]))
    x = torch.randn(2, 3, 16, 16)
    _, masks, probs = model._denoise(x, torch.tensor([5, 60]), None)
    assert torch.equal(masks.detach()[:, 1], torch.ones(2, 16, 16))
    # the statistics read the student's probabilities
    assert probs[:, 0].min() > 0.99
    masks[:, 1].sum().backward()
    assert model.decode_head.conv_seg.weight.grad is not None
    assert all(p.grad is None for p in model.mask_teacher.parameters())


def test_read_out_is_the_students():
    model = _model()
    with torch.no_grad():
        model.mask_teacher['decode_head'].conv_seg.bias.copy_(
            torch.tensor([-50., 50.]))
        model.decode_head.conv_seg.bias.copy_(torch.tensor([50., -50.]))
    model.eval()
    probs = model.predict_regions(torch.randn(1, 3, 16, 16))
    assert probs[:, 0].min() > 0.99


def test_update_teacher_moves_it_by_the_momentum():
    model = _model(momentum=0.25)
    with torch.no_grad():
        for p in model.decode_head.parameters():
            p.add_(1.)
    before = [p.clone() for p in model.mask_teacher.parameters()]
    student = list(model.backbone.parameters()) + list(
        model.decode_head.parameters())
    model.update_teacher()
    for p_t, p_0, p_s in zip(model.mask_teacher.parameters(), before, student):
        torch.testing.assert_close(p_t, p_0 + 0.25 * (p_s - p_0))


@pytest.mark.parametrize('kwargs,match', [
    (dict(teacher_momentum=0.), 'teacher_momentum'),
    (dict(teacher_momentum=1.5), 'teacher_momentum'),
    (dict(decode_head=dict(mask_sampling='soft')), "mask_sampling='gumbel'"),
])
def test_options_are_checked_at_build_time(kwargs, match):
    cfg = dict(decode_head=GUMBEL)
    cfg.update(kwargs)
    with pytest.raises(ValueError, match=match):
        MODELS.build(
            tiny_segmentor(num_regions=2, type='TeacherMaskSegmentor', **cfg))
