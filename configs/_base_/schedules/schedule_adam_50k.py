# The paper's optimisation: Adam, constant lr 1e-4, 50k iterations
# (Flowers / CUB). Checkpoints keep the optimizer state for --resume.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.999)),
    clip_grad=dict(max_norm=1.0))
param_scheduler = []
train_cfg = dict(type='IterBasedTrainLoop', max_iters=50000, val_interval=5000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # CheckpointHook written atomically (tmp + fsync + rename), so a crash
    # never leaves a half-written checkpoint or a dangling last_checkpoint
    checkpoint=dict(
        type='AtomicCheckpointHook',
        by_epoch=False,
        interval=5000,
        max_keep_ckpts=3,
        save_last=True),
    # RNG states in checkpoints: --resume repeats an uninterrupted run
    # exactly (docs/training.md). A default hook, not a custom one, so that
    # configs replacing the custom_hooks list keep it.
    rng_state=dict(type='RNGStateHook'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # mmseg's SegVisualizationHook, able to draw file-free data and regions
    visualization=dict(type='RegionVisualizationHook', interval=1))
