# The repository's runtime with the project's modules imported and none of
# the factorized model's custom hooks (EMA, mask usage, sample grids): the
# pixel classifiers train without EMA, as the original's.
_base_ = '../../../../configs/_base_/default_runtime.py'
custom_imports = dict(
    imports=['mmfactdiff', 'projects.ddpm_seg.ddpm_seg'],
    allow_failed_imports=False)
custom_hooks = []
