# Weizmann Horse (256 photos, one horse each, figure/ground masks).
# Label-free training reads the photos only (no masks), resized to 64x64
# (the aspect ratio is not kept: train and test see the same distortion);
# evaluation segments every photo at 64x64, resizes the prediction back to
# the photo's size and scores it against the full-size mask with the
# per-image polarity rule (evaluation.md). The masks never reach training,
# so training and scoring use the same 256 photos.
# data_root: a link to the data, e.g. for the shared copy
#   mkdir -p data && ln -s ../../shared/data/weizmann_horse data/weizmann_horse
data_root = 'data/weizmann_horse'
img_size = 64
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
    batch_size=32,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='WeizmannHorseDataset',
        data_root=data_root,
        with_masks=False,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='WeizmannHorseDataset',
        data_root=data_root,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='ForegroundIoUMetric'),
    dict(type='HungarianIoUMetric')
]
test_evaluator = val_evaluator
