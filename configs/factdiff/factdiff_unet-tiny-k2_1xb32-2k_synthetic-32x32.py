# The ADM-style tiny factorized U-Net on the built-in synthetic data, 2k
# iterations of batch 32 (the earlier CPU job; the main job is now
# factdiff_unet-probe-k2_1xb32-1k_synthetic-32x32.py).
_base_ = [
    '../_base_/models/factdiff_unet-tiny.py',
    '../_base_/datasets/synthetic_shapes-32x32.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_adam_2k.py'
]
# Masks: straight-through Gumbel with the noise drawn per 4x4 block. The
# paper's soft masks and per-pixel Gumbel noise did not segment at this
# budget with this model (projects/emergence_study/history.md); this
# departs from the paper.
model = dict(
    decode_head=dict(mask_sampling='gumbel', tau=1.0, gumbel_noise_stride=4))
# A 2k-iteration run needs a faster EMA than the paper's 0.9999, and grids
# more often.
custom_hooks = [
    dict(
        type='EMAHook',
        ema_type='ExponentialMovingAverage',
        momentum=5e-3,
        update_buffers=True,
        priority='ABOVE_NORMAL'),
    dict(type='MaskUsageHook', min_usage=0.02, patience=200),
    dict(
        type='SampleVisualizationHook',
        interval=500,
        num_samples=16,
        num_steps=50),
]
