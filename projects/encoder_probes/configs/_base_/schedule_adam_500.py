# Adam, lr 1e-3, 500 iterations (the pixel classifiers' schedule in
# projects/ddpm_seg); the encoder is frozen by lr_mult 0 (its parameters
# are in the optimizer but never move; GroupNorm has no running stats).
_base_ = '../../../../configs/_base_/schedules/schedule_adam_50k.py'
optim_wrapper = dict(
    optimizer=dict(lr=1e-3),
    clip_grad=None,
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.)}))
train_cfg = dict(max_iters=500, val_interval=250)
default_hooks = dict(
    logger=dict(interval=25), checkpoint=dict(interval=250, max_keep_ckpts=2))
