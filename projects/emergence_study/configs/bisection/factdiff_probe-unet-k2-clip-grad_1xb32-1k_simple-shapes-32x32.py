# Bisection step: the probe config with the configs' gradient clipping
# (global norm 1.0).
_base_ = '../factdiff_probe-unet-k2_1xb32-1k_simple-shapes-32x32.py'
optim_wrapper = dict(clip_grad=dict(_delete_=True, max_norm=1.0))
