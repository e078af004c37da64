# Label-free training on the frames of DAVIS 2017 videos and zero-shot J&F
# (unsupervised protocol) on the val videos with the main job's setting:
# the probe U-Net (`factdiff_unet-probe.py`: per-pixel straight-through
# Gumbel masks, K = 2), Adam 2e-4 without clipping, no EMA (the read-out
# uses the trained weights), 1,000 iterations. Frames at 64x64 (train,
# random crops) and 112x64 (test), as the earlier tiny-model config, so
# batch 16 keeps the pixels per step at twice the main job's. Measured
# result and command: docs/davis2017.md.
_base_ = [
    '../_base_/models/factdiff_unet-probe.py',
    '../_base_/datasets/davis2017-64x64.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_adam_2k.py'
]
model = dict(
    # frames come at 64x64 (train) and 112x64 (test): pad to a multiple of
    # the encoder's largest stride (4) instead of a fixed size
    data_preprocessor=dict(size=None, size_divisor=4),
    test_cfg=dict(img_size=64))
optim_wrapper = dict(clip_grad=None)
train_cfg = dict(max_iters=1000, val_interval=250)
default_hooks = dict(checkpoint=dict(interval=250, max_keep_ckpts=4))
custom_hooks = [
    dict(type='MaskUsageHook', min_usage=0.02, patience=200),
]
