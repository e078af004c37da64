# The reference probe (shared spec, `reference/factorized_probe.py`) rebuilt
# from the plugin's registered modules: the same network (1,279,941
# parameters; its weights load into this model and give the same outputs:
# tools/probe_equivalence.py), data, optimisation and read-out. The
# network is the probe U-Net model base; every setting below and in that
# base that differs from the ADM-style tiny config is one row of the
# bisection (docs/emergence.md).
_base_ = [
    '../../../configs/_base_/models/factdiff_unet-probe.py',
    '../../../configs/_base_/datasets/simple_shapes-32x32.py',
    '../../../configs/_base_/default_runtime.py',
    '../../../configs/_base_/schedules/schedule_adam_2k.py'
]
# fresh images every step (no image repeats within 2,000 iterations of
# batch 32) and no flips
train_dataloader = dict(
    dataset=dict(num_samples=64000, pipeline=[dict(type='PackSegInputs')]))
# Adam 2e-4 without gradient clipping; no EMA (the read-out uses the raw
# weights); validation every 250 iterations as the probe printed
optim_wrapper = dict(clip_grad=None)
train_cfg = dict(max_iters=1000, val_interval=250)
default_hooks = dict(checkpoint=dict(interval=250, max_keep_ckpts=4))
custom_hooks = [dict(type='MaskUsageHook', min_usage=0.02, patience=200)]
