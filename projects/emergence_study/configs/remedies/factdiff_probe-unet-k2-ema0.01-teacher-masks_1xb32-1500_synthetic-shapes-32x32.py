# A remedy for collapse on the built-in data: the main job's setting (EMA
# read-out, 1,500 iterations, bf16 autocast with --amp --amp-dtype
# bfloat16) trained on masks drawn by a slow teacher, an EMA (momentum
# 0.01) of the encoder and mask generator (TeacherMaskSegmentor of the
# study project; the gradient still reaches the trained mask generator,
# straight-through). Asks whether keeping the decoder's training masks
# away from the trained weights' sudden swings stops collapse
# (docs/emergence.md, section 5). Not in the paper.
_base_ = './factdiff_probe-unet-k2-ema0.01_1xb32-1500_synthetic-shapes-32x32.py'  # noqa: E501
custom_imports = dict(
    imports=['mmfactdiff', 'projects.emergence_study.emergence_study'],
    allow_failed_imports=False)
model = dict(type='TeacherMaskSegmentor', teacher_momentum=0.01)
