# Decoding ablation (paper Table 6): decoder mode 'concat_masks'.
_base_ = './factdiff_unet-tiny-k2_1xb32-2k_synthetic-32x32.py'
model = dict(decoder=dict(mode='concat_masks'))
