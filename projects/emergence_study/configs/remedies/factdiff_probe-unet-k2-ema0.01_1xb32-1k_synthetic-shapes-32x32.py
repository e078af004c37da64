# A remedy on the built-in data: the main job's setting read out with an
# exponential moving average of the weights over about the last 100
# iterations (mmengine's EMAHook, momentum 0.01), to ask whether averaging
# smooths the swings of the raw weights (checkpoints 50 iterations apart
# score anywhere from 60 to 74 or collapse: docs/emergence.md). Training
# is unchanged: validation, test and the saved state_dict read the average.
_base_ = '../factdiff_probe-unet-k2_1xb32-1k_synthetic-shapes-32x32.py'
custom_hooks = [
    dict(
        type='EMAHook',
        ema_type='ExponentialMovingAverage',
        momentum=0.01,
        update_buffers=True,
        priority='ABOVE_NORMAL'),
    dict(type='MaskUsageHook', min_usage=0.02, patience=200)
]
