# CUB-200-2011 with ReDO's train/val/test split and the IEM / ReDO
# foreground metric, as written by tools/dataset_converters/cub200.py
# (masks: segmentation > 0.5 -> 1 bird, else 0). Convert with --size 64
# (resize + centre crop, nearest for GT). Preparation: docs/datasets.md,
# "CUB-200-2011".
_base_ = './flowers102-64x64.py'
data_root = 'data/cub200'
metainfo = dict(
    classes=('background', 'bird'), palette=[[0, 0, 0], [255, 255, 255]])
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
test_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo))
