# Copyright (c) mmfactdiff contributors. All rights reserved.
import copy
from typing import Dict, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmfactdiff.models.segmentors import FactorizedDiffusionSegmentor
from mmfactdiff.models.utils import gumbel_noise, resize_masks
from mmfactdiff.registry import MODELS


@MODELS.register_module()
class TeacherMaskSegmentor(FactorizedDiffusionSegmentor):
    """The factorized model trained on masks drawn by a slow teacher: a
    remedy for collapse measured by the study. Not in the paper.

    In training, the hard masks that the decoder sees are drawn from an
    exponential moving average (the teacher) of the encoder and mask
    generator, ``one_hot(argmax(teacher_logits + g))``, while the gradient
    flows, straight-through, into the trained mask generator's
    ``softmax((logits + g) / tau)`` with the same Gumbel noise ``g``. A
    sudden swing of the trained weights then no longer changes what the
    decoder is trained on at once, and the mask generator keeps getting
    the gradient of the teacher's split (mean-teacher style). Outside
    training (the read-out, sampling) the model is the parent's.

    Needs the per-pixel straight-through Gumbel masks
    (``decode_head.mask_sampling='gumbel'``, ``gumbel_noise_stride=1``)
    and no level-2 mask generator.

    Args:
        teacher_momentum (float): Weight of the trained weights in each
            teacher update, ``teacher = (1 - m) * teacher + m * student``
            after every optimizer step (mmengine's EMA convention); in
            (0, 1]. 1 makes the teacher the student (the parent's
            training, one step late). Defaults to 0.01.
        **kwargs: The arguments of :class:`FactorizedDiffusionSegmentor`.
    """

    def __init__(self, teacher_momentum: float = 0.01, **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(teacher_momentum, (int, float)) or \
                not 0 < teacher_momentum <= 1:
            raise ValueError('teacher_momentum must be a number in (0, 1], '
                             f'got {teacher_momentum!r}')
        head = self.decode_head
        if head.mask_sampling != 'gumbel' or head.gumbel_noise_stride != 1:
            raise ValueError(
                'TeacherMaskSegmentor needs decode_head.mask_sampling='
                "'gumbel' and gumbel_noise_stride=1, got "
                f'{head.mask_sampling!r} and {head.gumbel_noise_stride}')
        if self.sub_mask_head is not None:
            raise ValueError('TeacherMaskSegmentor does not support '
                             'sub_mask_head (hierarchical models)')
        self.teacher_momentum = float(teacher_momentum)
        # a copy, saved in checkpoints (resume continues the same teacher)
        self.mask_teacher = nn.ModuleDict(
            dict(
                backbone=copy.deepcopy(self.backbone),
                decode_head=copy.deepcopy(self.decode_head)))
        self.mask_teacher.requires_grad_(False)

    def init_weights(self) -> None:
        """Initialise as the parent, then start the teacher as a copy of
        the initialised weights (its own init would draw other ones)."""
        super().init_weights()
        for name, teacher in self.mask_teacher.items():
            teacher.load_state_dict(getattr(self, name).state_dict())

    @torch.no_grad()
    def update_teacher(self) -> None:
        """One EMA step of the teacher towards the trained weights."""
        m = self.teacher_momentum
        for name, teacher in self.mask_teacher.items():
            student = getattr(self, name)
            for p_t, p_s in zip(teacher.parameters(), student.parameters()):
                p_t.lerp_(p_s.detach(), m)
            for b_t, b_s in zip(teacher.buffers(), student.buffers()):
                b_t.copy_(b_s)

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper) -> Dict[str, Tensor]:
        log_vars = super().train_step(data, optim_wrapper)
        self.update_teacher()
        return log_vars

    def _denoise(self, x_t: Tensor, t: Union[Tensor, int],
                 labels: Optional[Tensor]) -> Tuple[Tensor, Tensor, Tensor]:
        """The parent's forward, with the training masks drawn by the
        teacher; outside training exactly the parent's."""
        if not self.training:
            return super()._denoise(x_t, t, labels)
        feats = self.extract_feat(x_t, t, labels)
        with torch.no_grad():
            # the teacher reads the same noised images
            teacher_logits = self.mask_teacher['decode_head'](
                self.mask_teacher['backbone'](x_t, t, labels))
        logits = self.decode_head(feats)
        g = gumbel_noise(logits)
        soft = ((logits + g) / self.decode_head.tau).softmax(dim=1)
        hard = F.one_hot((teacher_logits.float() + g).argmax(dim=1),
                         logits.shape[1]).permute(0, 3, 1, 2).to(soft)
        size = x_t.shape[-2:]
        masks = resize_masks(hard + soft - soft.detach(), size)
        probs = resize_masks(logits.softmax(dim=1), size)
        return self.decoder(feats, masks), masks, probs
