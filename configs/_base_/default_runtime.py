# Runtime shared by every mmfactdiff config: mmseg's runtime, the plugin
# import, and EMA weights (used for validation, testing and sampling).
_base_ = 'mmseg::_base_/default_runtime.py'
custom_imports = dict(imports=['mmfactdiff'], allow_failed_imports=False)
# ema = (1 - momentum) * ema + momentum * weights. The paper's 0.9999 decay
# is momentum=1e-4; short schedules override it (see each config).
custom_hooks = [
    dict(
        type='EMAHook',
        ema_type='ExponentialMovingAverage',
        momentum=1e-4,
        update_buffers=True,
        priority='ABOVE_NORMAL')
]
