# A remedy measured on the built-in data: Adam 5e-4 for the encoder and the
# decoder (the rate whose runs reached 80) and a 5x slower rate for the
# mask generator (1e-4, mmengine's per-parameter lr_mult). Why: a 10x
# faster mask generator made one region take over on the earlier model
# (projects/emergence_study/history.md), so collapse may be the masks
# racing ahead of the decoder that has to learn to use them.
_base_ = './factdiff_probe-unet-k2-lr5e-4_1xb32-1k_synthetic-shapes-32x32.py'
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'decode_head': dict(lr_mult=0.2)}))
