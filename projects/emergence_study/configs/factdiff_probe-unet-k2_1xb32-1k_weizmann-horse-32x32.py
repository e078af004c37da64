# The probe config trained on the Weizmann Horse photos alone at 32x32 (a
# diagnostic: the probe's size, a quarter of the cost of 64x64), scored at
# each photo's own size against its figure/ground mask. Data as in
# configs/_base_/datasets/weizmann_horse-64x64.py, at 32x32.
_base_ = './factdiff_probe-unet-k2_1xb32-1k_simple-shapes-32x32.py'
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
    dict(type='LoadAnnotations'),
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
