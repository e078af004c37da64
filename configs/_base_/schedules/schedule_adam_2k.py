# A CPU-sized schedule: 2k iterations, Adam lr 2e-4, frequent checkpoints
# (every 250 iterations) so an interrupted run loses little.
_base_ = './schedule_adam_50k.py'
optim_wrapper = dict(optimizer=dict(lr=2e-4))
train_cfg = dict(max_iters=2000, val_interval=500)
default_hooks = dict(
    logger=dict(interval=25), checkpoint=dict(interval=250, max_keep_ckpts=2))
