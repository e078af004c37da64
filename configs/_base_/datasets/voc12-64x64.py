# PASCAL VOC 2012 in mmseg's standard layout (data/VOCdevkit/VOC2012:
# JPEGImages, SegmentationClass, ImageSets/Segmentation/{train,val}.txt),
# at the 64x64 model resolution. Training reads only the images of the train
# list (no labels). Evaluation resizes each val image to 64x64, and the
# predictions are resized back to the original size and scored there
# against the untouched ground truth (255 on object boundaries is ignored):
#   - HungarianIoUMetric: unsupervised 21-class mIoU (dataset-level
#     matching maximising IoU; docs/evaluation.md 2a);
#   - PerClassForegroundMetric: foreground/background Acc/IoU/DICE grouped
#     by the VOC classes an image contains (docs/evaluation.md 3c).
# Preparation: docs/datasets.md, "PASCAL VOC 2012".
_base_ = 'mmseg::_base_/datasets/pascal_voc12.py'
data_root = 'data/VOCdevkit/VOC2012'
img_scale = (64, 64)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(4096, 64), keep_ratio=True),  # short side
    dict(type='RandomCrop', crop_size=img_scale),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='LoadAnnotations'),  # after Resize: GT at the original size
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=4,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='HungarianIoUMetric'),
    dict(type='PerClassForegroundMetric'),
]
test_evaluator = val_evaluator
