# The small factorized U-Net whose regions emerge on 2 CPU cores: the
# reference probe's architecture (method spec), rebuilt from the registered
# modules. Widths 32/64/64, one residual block per level, no attention, K = 2
# regions, 32x32 images. What differs from the ADM-style tiny model
# (`factdiff_unet-tiny.py`), and which of those differences decide whether
# regions emerge, is measured in projects/emergence_study (bisection table).
_base_ = './factdiff_unet-tiny.py'
# residual blocks: GroupNorm(8), the timestep embedding added without a
# SiLU before its projection, no scale-shift, PyTorch's default init
block = dict(
    num_groups=8,
    use_scale_shift_norm=False,
    emb_act=False,
    zero_init_residual=False)
model = dict(
    # the U-Net output half of the mask generator and the decoder: no
    # attention, nearest upsampling without a conv, output blocks as wide
    # as their skip
    trunk=dict(
        channels=32,
        channel_mults=(1, 2, 2),
        attention_strides=(),
        conv_resample=False,
        block_width='skip',
        **block),
    backbone=dict(
        mid_attention=False,
        num_mid_res_blocks=1,
        conv_resample=False,
        sinusoid_channels=128,
        **block),
    # built like the decoder: a 3x3 output conv at PyTorch's default init;
    # per-pixel straight-through Gumbel masks at tau 1
    decode_head=dict(
        mask_sampling='gumbel',
        tau=1.0,
        gumbel_noise_stride=1,
        seg_kernel_size=3,
        init_cfg=None),
    # output conv not zero-initialised; masks resized bilinearly
    decoder=dict(zero_init_out=False, mask_resize='bilinear'))
