# PASCAL VOC 2012 val for the zero-shot protocol of the paper (Table 7):
# a class-conditional ImageNet model segments every (image, VOC class in
# the image) pair, conditioned on the ImageNet class that the shipped
# mapping (mmfactdiff/datasets/class_maps/imagenet_to_voc.json) gives for
# the VOC class; the foreground is scored against that class's pixels and
# per-class Acc/IoU/DICE are printed (docs/evaluation.md 3b). Test split
# only: combine with a training config that sets no test_dataloader.
# Layout as mmseg's (data/VOCdevkit/VOC2012); docs/datasets.md.
voc_root = 'data/VOCdevkit/VOC2012'
voc_zeroshot_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='LoadAnnotations'),  # after Resize: GT at the original size
    dict(
        type='PackSegInputs',
        meta_keys=('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                   'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                   'reduce_zero_label', 'class_label', 'target_class'))
]
test_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='VOCClassConditionedDataset',
        data_root=voc_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',
        # class_map=None would be an error: the default is the shipped file
        cond_key='class_label',  # = the model's cond_label_key
        target_key='target_class',
        test_mode=True,
        pipeline=voc_zeroshot_pipeline))
test_evaluator = dict(
    type='PerClassForegroundMetric', target_key='target_class')
