# The README's main job setting (probe U-Net, per-pixel straight-through
# Gumbel masks, EMA read-out, bf16 autocast, 1,500 iterations, half the
# training timesteps from t < 200, the checkpoint of highest label-free
# region gain kept) trained on the Weizmann Horse photos alone, at 32x32:
# a quarter of the cost of 64x64, where the probe setting measured no
# differently (docs/emergence.md, section 4). The region gain is scored on
# the photos themselves (pixels only: the model is trained on them, as
# unsupervised methods are); the masks are read by the foreground IoU
# logged beside it, never by the selection. Measured result and command:
# docs/emergence.md, section 4.
# Data as in configs/_base_/datasets/weizmann_horse-64x64.py, at 32x32.
_base_ = './factdiff_unet-probe-k2-ema-lowt-best_1xb32-1500_synthetic-32x32.py'
data_root = 'data/weizmann_horse'
img_size = 32
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='LoadAnnotations'),  # after Resize: masks stay full size
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='WeizmannHorseDataset',
        data_root=data_root,
        with_masks=False,
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='WeizmannHorseDataset',
        data_root=data_root,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='RegionGainMetric'),
    dict(type='ForegroundIoUMetric'),
]
test_evaluator = [
    dict(type='ForegroundIoUMetric'),
    dict(type='HungarianIoUMetric'),
    dict(type='RegionGainMetric'),
]
