# A remedy for collapse measured on the built-in data: the main job's
# setting with the masks passing gradients only for images noised to
# t <= 100 (LowNoiseMaskGradSegmentor: the decoder still learns at every
# t; the forward pass is the paper's). Why: on a segmenting checkpoint
# the model's own masks lower the denoising loss against one region at
# t <= 100, but raise it at t >= 100 on a checkpoint that went on to
# collapse (docs/emergence.md), so the high-t images, 90% of every batch,
# pull the masks towards one region.
_base_ = '../factdiff_probe-unet-k2_1xb32-1k_synthetic-shapes-32x32.py'
custom_imports = dict(
    imports=['mmfactdiff', 'projects.emergence_study.emergence_study'],
    allow_failed_imports=False)
model = dict(type='LowNoiseMaskGradSegmentor', mask_grad_max_t=100)
