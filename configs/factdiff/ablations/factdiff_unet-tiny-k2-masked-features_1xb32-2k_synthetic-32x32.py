# Decoding ablation (paper Table 6 b): skips unmasked, the bottleneck and
# every block's features multiplied by the region's mask.
_base_ = '../factdiff_unet-tiny-k2_1xb32-2k_synthetic-32x32.py'
model = dict(decoder=dict(type='MaskedFeaturesUNetDecoder'))
