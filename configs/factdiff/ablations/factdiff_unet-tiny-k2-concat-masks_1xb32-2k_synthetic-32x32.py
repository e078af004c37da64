# Decoding ablation (paper Table 6 a): the masks concatenated to every
# block's input of one decoder pass.
_base_ = '../factdiff_unet-tiny-k2_1xb32-2k_synthetic-32x32.py'
model = dict(decoder=dict(type='ConcatMasksUNetDecoder'))
