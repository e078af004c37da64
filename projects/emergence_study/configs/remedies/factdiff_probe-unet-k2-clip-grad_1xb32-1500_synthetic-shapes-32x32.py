# A remedy measured on the built-in data: the probe config with gradient
# clipping (global norm 1.0, ADM's and the paper configs' value).
_base_ = '../factdiff_probe-unet-k2_1xb32-1k_synthetic-shapes-32x32.py'
train_cfg = dict(max_iters=1500)
optim_wrapper = dict(clip_grad=dict(_delete_=True, max_norm=1.0))
