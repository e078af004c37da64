# A remedy measured on the built-in data: the main job's setting with its
# learning rate decayed to 0 by a cosine over its 1,000 iterations (the
# late phase is where regions collapse and come back).
_base_ = '../factdiff_probe-unet-k2_1xb32-1k_synthetic-shapes-32x32.py'
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=1000,
        eta_min=0.,
        by_epoch=False,
        begin=0,
        end=1000)
]
