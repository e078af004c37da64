# The collapse remedy of the built-in data on the Weizmann Horse photos: the
# probe setting at 32x32 (images only) with the masks passing gradients
# only for images noised to t <= 100 (LowNoiseMaskGradSegmentor).
_base_ = '../factdiff_probe-unet-k2_1xb32-1k_weizmann-horse-32x32.py'
custom_imports = dict(
    imports=['mmfactdiff', 'projects.emergence_study.emergence_study'],
    allow_failed_imports=False)
model = dict(type='LowNoiseMaskGradSegmentor', mask_grad_max_t=100)
