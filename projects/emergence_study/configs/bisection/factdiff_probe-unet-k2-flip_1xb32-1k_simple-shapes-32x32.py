# Bisection step: the probe config with the configs' random horizontal
# flips of the training images.
_base_ = '../factdiff_probe-unet-k2_1xb32-1k_simple-shapes-32x32.py'
train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackSegInputs')
    ]))
