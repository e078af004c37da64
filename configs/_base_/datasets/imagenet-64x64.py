# ImageNet-64 for class-conditional pretraining: one folder per class,
# either Downsampled ImageNet 64x64 unpacked by
# tools/dataset_converters/imagenet64.py (train/0000 ... train/0999) or the
# ImageNet-1k train folder (train/n01440764 ...; resized here). Sorted
# folder names give the standard ImageNet-1k class indices, which the model
# reads from the 'class_label' metainfo (cond_label_key). Training split
# only. Preparation: docs/datasets.md, "ImageNet-64".
imagenet_root = 'data/imagenet64'
imagenet_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(4096, 64), keep_ratio=True),  # short side
    dict(type='RandomCrop', crop_size=(64, 64)),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='PackSegInputs',
        meta_keys=('img_path', 'ori_shape', 'img_shape', 'pad_shape',
                   'scale_factor', 'flip', 'flip_direction', 'class_label'))
]
train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='ClassFolderDataset',
        data_root=imagenet_root,
        data_prefix=dict(img_path='train'),
        label_key='class_label',
        pipeline=imagenet_pipeline))
