# Weizmann Horse with labels for N = 20 photos, for label-using baselines
# (projects/ddpm_seg, projects/encoder_probes): the first 20 of all.txt,
# photos and masks resized to 32x32 (masks nearest), train the classifier;
# the other 236 photos are segmented at 32x32 and scored at their own size
# against their full-size masks.
# data_root: a link to the data (see weizmann_horse-64x64.py)
_base_ = './weizmann_horse-64x64.py'
img_size = 32
num_labelled = 20
num_photos = 256  # lines of all.txt
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
    dataset=dict(
        with_masks=True, indices=num_labelled, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        indices=list(range(num_labelled, num_photos)), pipeline=test_pipeline))
test_dataloader = val_dataloader
# as synthetic_shapes-20-labelled-32x32.py: mIoU and the foreground IoU
# with class 1 as the foreground (no per-image flip)
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='ForegroundIoUMetric', fg_rule='dataset_majority')
]
test_evaluator = val_evaluator
