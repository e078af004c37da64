# The paper-size model (ADM 64x64 layout, K = 3) on the built-in data.
_base_ = [
    '../_base_/models/factdiff_unet.py',
    '../_base_/datasets/synthetic_shapes-64x64.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_adam_50k.py'
]
train_dataloader = dict(batch_size=64)
