# A remedy measured on the built-in data: Adam 5e-4 (the only rate whose
# runs reached 80, and the most collapsed ones) with RegionRestartHook,
# which re-initialises the mask generator's output conv (and clears its
# Adam moments) when a run collapses onto one region (the collapse guard's
# label-free signal, checked every 25 iterations on 64 training images):
# after its regions had split the images, or, for runs that never split
# them, once 250 iterations have passed since the start or the last
# restart.
_base_ = './factdiff_probe-unet-k2-lr5e-4_1xb32-1k_synthetic-shapes-32x32.py'
custom_imports = dict(
    imports=['mmfactdiff', 'projects.emergence_study.emergence_study'],
    allow_failed_imports=False)
custom_hooks = [
    dict(type='MaskUsageHook', min_usage=0.02, patience=200),
    dict(
        type='RegionRestartHook',
        interval=25,
        min_share=0.1,
        patience=2,
        arm_after=250),
]
