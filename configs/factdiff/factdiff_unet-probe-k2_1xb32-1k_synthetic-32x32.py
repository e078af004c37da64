# The README's main job: the probe architecture (`factdiff_unet-probe.py`)
# on the built-in synthetic data, trained on fresh images every step with
# Adam 2e-4 (constant, no gradient clipping) for 1,000 iterations, no EMA
# (the read-out uses the trained weights). It is the study's probe config
# (projects/emergence_study) on the built-in data; results and the
# bisection behind each setting: docs/emergence.md.
_base_ = [
    '../_base_/models/factdiff_unet-probe.py',
    '../_base_/datasets/synthetic_shapes-32x32.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_adam_2k.py'
]
# fresh images every step (64,000 = 2,000 iterations x batch 32), no flips
train_dataloader = dict(
    dataset=dict(num_samples=64000, pipeline=[dict(type='PackSegInputs')]))
optim_wrapper = dict(clip_grad=None)
train_cfg = dict(max_iters=1000, val_interval=250)
default_hooks = dict(checkpoint=dict(interval=250, max_keep_ckpts=4))
# no EMA hook: over 1,000 iterations an EMA lags the weights that segment
# (docs/emergence.md)
custom_hooks = [
    dict(type='MaskUsageHook', min_usage=0.02, patience=200),
    dict(
        type='SampleVisualizationHook',
        interval=1000,
        num_samples=16,
        num_steps=50),
]
