# A remedy measured on the built-in data: Adam 5e-4 (regions emerge sooner
# than at 2e-4) and a late step down to 1e-4 at iteration 750, to keep the
# regions found by then from oscillating away in the last quarter (a cosine
# decay from the start froze runs early and was worse).
_base_ = './factdiff_probe-unet-k2-lr5e-4_1xb32-1k_synthetic-shapes-32x32.py'
param_scheduler = [
    dict(type='MultiStepLR', milestones=[750], gamma=0.2, by_epoch=False)
]
