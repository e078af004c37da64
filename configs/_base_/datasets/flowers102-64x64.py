# Oxford Flowers-102 with the IEM / ReDO split and foreground metric, as
# written by tools/dataset_converters/flowers102.py (train = official
# tstid, val = valid, test = trnid; masks 0 background / 1 flower).
# Convert with --size 64 so that images and ground truth are resized
# (nearest for GT) and centre-cropped to the model resolution, as the
# protocol does; then the Resize below changes nothing. Preparation:
# docs/datasets.md, "Flowers-102".
data_root = 'data/flowers102'
img_scale = (64, 64)
metainfo = dict(
    classes=('background', 'flower'), palette=[[0, 0, 0], [255, 255, 255]])
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='LoadAnnotations'),  # after Resize: GT as stored
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='UnlabeledImageDataset',
        data_root=data_root,
        data_prefix=dict(img_path='images/train'),  # labels never read
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='UnlabeledImageDataset',
        data_root=data_root,
        data_prefix=dict(img_path='images/val', seg_map_path='masks/val'),
        metainfo=metainfo,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='UnlabeledImageDataset',
        data_root=data_root,
        data_prefix=dict(img_path='images/test', seg_map_path='masks/test'),
        metainfo=metainfo,
        test_mode=True,
        pipeline=test_pipeline))
val_evaluator = dict(type='ForegroundIoUMetric')  # IEM/ReDO polarity rule
test_evaluator = val_evaluator
