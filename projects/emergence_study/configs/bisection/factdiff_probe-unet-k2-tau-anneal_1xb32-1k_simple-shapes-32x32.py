# Bisection step: the probe config with the former main job's Gumbel
# temperature schedule (1.0 to 0.3, linear over the run).
_base_ = '../factdiff_probe-unet-k2_1xb32-1k_simple-shapes-32x32.py'
custom_hooks = [
    dict(type='MaskUsageHook', min_usage=0.02, patience=200),
    dict(type='TauScheduleHook', start=1.0, end=0.3, mode='linear')
]
