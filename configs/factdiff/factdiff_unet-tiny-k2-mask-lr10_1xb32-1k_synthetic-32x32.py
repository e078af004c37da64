# Remedy (not in the paper): the mask generator (decode_head) trains at 10x
# the learning rate of the encoder and decoder, through mmengine's own
# paramwise_cfg. Measured over 5 seeds in docs/emergence.md.
_base_ = './factdiff_unet-tiny-k2_1xb32-1k_synthetic-32x32.py'
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'decode_head': dict(lr_mult=10.0)}))
