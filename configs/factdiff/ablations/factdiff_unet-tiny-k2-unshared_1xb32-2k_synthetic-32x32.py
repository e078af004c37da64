# Decoding ablation (paper Table 6 c): K decoders with their own weights.
_base_ = '../factdiff_unet-tiny-k2_1xb32-2k_synthetic-32x32.py'
model = dict(decoder=dict(share_weights=False))
