# The README's main job setting (EMA read-out at momentum 0.01, bf16
# autocast, 1,500 iterations) trained label-free on the frames of DAVIS
# 2017 videos and scored zero-shot by J&F (unsupervised protocol), at the
# resolutions of the earlier DAVIS config (64x64 random crops for
# training, 112x64 frames for testing, batch 16). Measured result and
# command: docs/davis2017.md.
_base_ = './factdiff_unet-probe-k2_1xb16-1k_davis2017-64x64.py'
# bf16 autocast; for fp32: --cfg-options optim_wrapper.type=OptimWrapper
optim_wrapper = dict(type='AutocastOptimWrapper')
train_cfg = dict(max_iters=1500)
custom_hooks = [
    dict(
        type='EMAHook',
        ema_type='ExponentialMovingAverage',
        momentum=0.01,
        update_buffers=True,
        priority='ABOVE_NORMAL'),
    dict(type='MaskUsageHook', min_usage=0.02, patience=200),
]
