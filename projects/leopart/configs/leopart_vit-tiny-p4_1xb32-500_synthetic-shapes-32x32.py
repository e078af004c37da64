# Leopart's loss on the built-in synthetic shapes (the images only), a
# ViT-tiny with 4x4 patches from RANDOM initialisation, 500 iterations of
# 32 images x (2 global 32x32 + 4 local 16x16 crops) on a CPU. AdamW with
# Leopart's two rates scaled 10x (1e-4 backbone, 1e-3 head: the official
# 1e-5 / 1e-4 fine-tune a DINO ViT for 50+ epochs) and its cosine schedules
# (rates to 0, weight decay 0.04 -> 0.5, norms and biases undecayed).
# Score the checkpoint with the leopart-eval config beside this one.
_base_ = [
    './_base_/leopart_vit-tiny-p4.py',
    '../../../configs/_base_/datasets/synthetic_shapes-32x32.py',
    '../../../configs/_base_/default_runtime.py'
]
custom_imports = dict(
    imports=['mmfactdiff', 'projects.leopart.leopart'],
    allow_failed_imports=False)
custom_hooks = []  # none of the factorized model's hooks
train_pipeline = [
    dict(
        type='LeopartMultiCrop',
        sizes=(32, 16),
        num_crops=(2, 4),
        min_scale=(0.25, 0.05),
        max_scale=(1.0, 0.25),
        min_intersection=0.01),
    dict(type='PackMultiCropInputs')
]
train_dataloader = dict(
    batch_size=32, dataset=dict(num_samples=16000, pipeline=train_pipeline))
# training only: Leopart has no predict; evaluation is a separate config
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None
max_iters = 500
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.04),
    # the head at 10x the backbone's rate (the teacher never steps)
    paramwise_cfg=dict(
        custom_keys={'head.': dict(lr_mult=10.0)}, flat_decay_mult=0.0))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_iters,
        eta_min=0.,
        by_epoch=False,
        begin=0,
        end=max_iters),
    dict(
        type='CosineAnnealingParamScheduler',
        param_name='weight_decay',
        T_max=max_iters,
        eta_min_ratio=0.5 / 0.04,
        by_epoch=False,
        begin=0,
        end=max_iters)
]
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=250),
    logger=dict(type='LoggerHook', interval=25))
