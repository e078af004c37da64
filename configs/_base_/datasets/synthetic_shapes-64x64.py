# The built-in procedural dataset at 64x64 (see synthetic_shapes-32x32.py).
_base_ = './synthetic_shapes-32x32.py'
img_size = 64
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='PackSegInputs')
]
train_dataloader = dict(dataset=dict(img_size=img_size))
val_dataloader = dict(dataset=dict(img_size=img_size))
test_dataloader = dict(dataset=dict(img_size=img_size, pipeline=test_pipeline))
