# Hierarchical model (paper Fig. 15): K1 = 2 regions, each split into K2 = 2
# by a level-2 mask generator shared over parent regions (4 leaves).
_base_ = './factdiff_unet-tiny-k2_1xb32-2k_synthetic-32x32.py'
model = dict(
    sub_mask_head=dict(
        type='MaskGeneratorHead',
        num_classes=2,
        channels={{_base_.base_channels}},
        channel_mults={{_base_.channel_mults}},
        attention_strides={{_base_.attention_strides}},
        num_heads=4))
