# Weizmann Horse with labels for N = 20 photos (the first 20 of all.txt),
# photos and masks resized to 32x32 for training; the other 236 photos are
# segmented at 32x32 and scored at their own size (as projects/ddpm_seg).
# data_root: a link to the data
# (configs/_base_/datasets/weizmann_horse-64x64.py)
_base_ = '../../../../configs/_base_/datasets/weizmann_horse-64x64.py'
img_size = 32
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='LoadAnnotations'),  # after Resize: masks stay full size
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=4,
    dataset=dict(with_masks=True, indices=20, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(indices=list(range(20, 256)), pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='ForegroundIoUMetric', fg_rule='dataset_majority')
]
test_evaluator = val_evaluator
