# A remedy measured on the built-in data: the probe config with its
# learning rate decayed to 0 by a cosine over 1,500 iterations.
_base_ = '../factdiff_probe-unet-k2_1xb32-1k_synthetic-shapes-32x32.py'
train_cfg = dict(max_iters=1500)
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=1500,
        eta_min=0.,
        by_epoch=False,
        begin=0,
        end=1500)
]
