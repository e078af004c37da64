# The reference probe (shared spec, `reference/factorized_probe.py`) rebuilt
# from the plugin's registered modules: the same network (1,279,941
# parameters; its weights load into this model and give the same outputs),
# data, optimisation and read-out. Every setting below that differs from
# the tiny ADM config is one row of the bisection (README of this project).
_base_ = [
    '../../../configs/_base_/models/factdiff_unet-tiny.py',
    '../../../configs/_base_/datasets/simple_shapes-32x32.py',
    '../../../configs/_base_/default_runtime.py',
    '../../../configs/_base_/schedules/schedule_adam_2k.py'
]
# residual blocks: GroupNorm(8), the timestep embedding added without a
# SiLU before its projection, no scale-shift, default (not zero) init
block = dict(
    num_groups=8,
    use_scale_shift_norm=False,
    emb_act=False,
    zero_init_residual=False)
# the two U-Net halves: no attention, nearest upsampling without a conv,
# every output block as wide as the skip it reads
half = dict(
    channels=32,
    channel_mults=(1, 2, 2),
    attention_strides=(),
    conv_resample=False,
    block_width='skip',
    **block)
model = dict(
    backbone=dict(
        mid_attention=False,
        num_mid_res_blocks=1,
        conv_resample=False,
        sinusoid_channels=128,
        **block),
    # the mask generator is built like the decoder: a 3x3 output conv with
    # PyTorch's default init (not mmseg's 1x1 conv_seg at std 0.01);
    # per-pixel straight-through Gumbel masks at tau 1
    decode_head=dict(
        mask_sampling='gumbel',
        tau=1.0,
        gumbel_noise_stride=1,
        seg_kernel_size=3,
        init_cfg=None,
        **half),
    # output conv not zero-initialised; masks resized bilinearly
    decoder=dict(zero_init_out=False, mask_resize='bilinear', **half))
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
