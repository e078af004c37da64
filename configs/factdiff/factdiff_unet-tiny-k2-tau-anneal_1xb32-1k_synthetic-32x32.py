# Remedy (not in the paper): the Gumbel temperature of the mask generator is
# annealed linearly from 1.0 to 0.3 over the run by TauScheduleHook. Measured
# over 5 seeds in docs/emergence.md.
_base_ = './factdiff_unet-tiny-k2_1xb32-1k_synthetic-32x32.py'
custom_hooks = _base_.custom_hooks + [
    dict(type='TauScheduleHook', start=1.0, end=0.3, mode='linear')
]
