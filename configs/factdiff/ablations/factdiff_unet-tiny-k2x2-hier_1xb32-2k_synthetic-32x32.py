# Hierarchical model (paper Fig. 15): K1 = 2 regions, each split into K2 = 2
# by a level-2 mask generator shared over parent regions (4 leaves); it is
# built from the same trunk as the mask generator and the decoder.
_base_ = '../factdiff_unet-tiny-k2_1xb32-2k_synthetic-32x32.py'
model = dict(sub_mask_head=dict(type='MaskGeneratorHead', num_classes=2))
