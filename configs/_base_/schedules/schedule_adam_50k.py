# The paper's optimisation: Adam, constant lr 1e-4, 50k iterations
# (Flowers / CUB). Checkpoints keep the optimizer state for --resume.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.999)),
    clip_grad=dict(max_norm=1.0))
param_scheduler = []
train_cfg = dict(type='IterBasedTrainLoop', max_iters=50000,
                 val_interval=5000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=5000, max_keep_ckpts=3,
        save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # mmseg's SegVisualizationHook, able to draw file-free data and regions
    visualization=dict(type='RegionVisualizationHook', interval=1))
