# FFHQ (Flickr-Faces-HQ) for label-free pretraining: any folder of the
# face images (images1024x1024/ or thumbnails128x128/ of the official
# release, in their numbered sub-folders), resized to 64x64. Training split
# only: combine with an evaluation base such as celebamask_hq-64x64.py.
# Preparation: docs/datasets.md, "FFHQ".
ffhq_root = 'data/ffhq'
ffhq_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),  # square faces
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='UnlabeledImageDataset',
        data_root=ffhq_root,
        data_prefix=dict(img_path='images1024x1024'),  # scanned recursively
        pipeline=ffhq_pipeline))
