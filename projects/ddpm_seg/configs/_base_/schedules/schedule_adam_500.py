# The original's optimiser for the pixel classifiers (Adam, lr 1e-3, no
# gradient clipping) over 500 iterations; validation every 250.
_base_ = '../../../../../configs/_base_/schedules/schedule_adam_50k.py'
optim_wrapper = dict(optimizer=dict(lr=1e-3), clip_grad=None)
train_cfg = dict(max_iters=500, val_interval=250)
default_hooks = dict(
    logger=dict(interval=25), checkpoint=dict(interval=250, max_keep_ckpts=2))
