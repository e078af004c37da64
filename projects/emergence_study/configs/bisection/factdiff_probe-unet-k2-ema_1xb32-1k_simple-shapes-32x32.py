# Bisection step: the probe config read out with EMA weights (momentum
# 5e-3, the CPU configs' value). Training is unchanged: only what the
# evaluation reads differs.
_base_ = '../factdiff_probe-unet-k2_1xb32-1k_simple-shapes-32x32.py'
custom_hooks = [
    dict(
        type='EMAHook',
        ema_type='ExponentialMovingAverage',
        momentum=5e-3,
        update_buffers=True,
        priority='ABOVE_NORMAL'),
    dict(type='MaskUsageHook', min_usage=0.02, patience=200)
]
