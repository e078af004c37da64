# Remedy (not in the paper): a region whose training usage stays under 2% for
# 100 iterations is restarted from a perturbed copy of the most used region
# (DeadRegionRestartHook). Measured over 5 seeds in docs/emergence.md.
_base_ = './factdiff_unet-tiny-k2_1xb32-1k_synthetic-32x32.py'
custom_hooks = _base_.custom_hooks + [
    dict(type='DeadRegionRestartHook', min_usage=0.02, patience=100)
]
