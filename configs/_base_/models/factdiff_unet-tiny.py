# A small factorized diffusion U-Net that trains on 2 CPU cores: widths
# 32/64/64, one residual block per level, attention only in the middle
# block; K = 2 regions. 32x32 images.
_base_ = './factdiff_unet.py'
num_regions = 2
base_channels = 32
channel_mults = (1, 2, 2)
attention_strides = ()
model = dict(
    data_preprocessor=dict(size=(32, 32)),
    backbone=dict(
        base_channels=base_channels,
        channel_mults=channel_mults,
        num_res_blocks=1,
        attention_strides=attention_strides),
    trunk=dict(
        channels=base_channels,
        channel_mults=channel_mults,
        attention_strides=attention_strides),
    decode_head=dict(num_classes=num_regions),
    test_cfg=dict(img_size=32))
