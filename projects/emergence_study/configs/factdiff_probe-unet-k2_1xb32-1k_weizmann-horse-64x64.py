# The probe config trained on the Weizmann Horse photos alone at 64x64 (the
# size issue 19 names; four times the cost of the 32x32 diagnostic), scored
# at each photo's own size against its figure/ground mask. Only the input
# size differs from the 32x32 config.
_base_ = './factdiff_probe-unet-k2_1xb32-1k_weizmann-horse-32x32.py'
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
