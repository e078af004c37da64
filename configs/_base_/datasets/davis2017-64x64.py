# DAVIS 2017 (480p, official layout) for label-free training and the
# official J&F evaluation. Training reads only the frames (no masks): the
# frames of every video under JPEGImages/480p, resized to 64 px high and
# randomly cropped to 64x64. Evaluation segments each val frame at 112x64
# (the frame aspect, divisible by 8), resizes the masks back to 854x480 and
# scores them with DAVISMetric (unsupervised protocol: region k is
# proposal k in every frame) and, for one-object videos, foreground IoU.
# data_root: a link to the DAVIS tree, e.g. for the shipped subset
#   mkdir -p data && ln -s ../../shared/data/davis2017_subset data/DAVIS
data_root = 'data/DAVIS'
crop_size = (64, 64)
test_scale = (112, 64)  # (w, h)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(4096, 64), keep_ratio=True),  # 64 px high
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=test_scale, keep_ratio=False),
    dict(type='LoadAnnotations'),  # after Resize: masks stay at 854x480
    dict(
        type='PackSegInputs',
        meta_keys=('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                   'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                   'reduce_zero_label', 'sequence', 'frame_index',
                   'num_frames'))
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='UnlabeledImageDataset',
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages/480p'),
        img_suffix='.jpg',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='DAVIS2017Dataset',
        data_root=data_root,
        split='val',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='DAVISMetric', task='unsupervised'),
    dict(type='ForegroundIoUMetric')
]
test_evaluator = val_evaluator
