# The repository's runtime without the factorized model's custom hooks
# (EMA, mask usage, sample grids): a probe trains a plain head.
_base_ = '../../../../configs/_base_/default_runtime.py'
custom_imports = dict(imports=['mmfactdiff'], allow_failed_imports=False)
custom_hooks = []
