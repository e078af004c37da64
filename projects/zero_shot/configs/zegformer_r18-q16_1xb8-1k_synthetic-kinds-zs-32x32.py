# ZegFormer's decoupled head on the built-in data split into seen and
# unseen classes: trained with the labels of the background, ellipses,
# rectangles and triangles (star pixels ignored), tested on all five
# classes, stars included, which it can name only through their class
# vectors (projects/zero_shot/data/synthetic_kinds_attributes.json: corners,
# curved boundary, convexity, mirror axes, pointed tips, background). An
# mmseg ResNet-18 from random weights, 16 queries, 1,000 iterations of 8
# images. Scored by mIoU over the seen classes (background included, as in
# ZS3Net's and SPNet's VOC splits), the unseen one and their harmonic mean
# (SeenUnseenIoUMetric).
_base_ = [
    '../../../configs/_base_/datasets/synthetic_shapes-32x32.py',
    '../../../configs/_base_/default_runtime.py'
]
custom_imports = dict(
    imports=['mmfactdiff', 'projects.zero_shot.zero_shot'],
    allow_failed_imports=False)
custom_hooks = []  # none of the factorized model's hooks
classes = ['background', 'ellipse', 'rectangle', 'triangle', 'star']
seen, unseen = [0, 1, 2, 3], [4]
train_dataloader = dict(
    batch_size=8, dataset=dict(label_mode='kind', num_samples=10000))
val_dataloader = dict(batch_size=16, dataset=dict(label_mode='kind'))
test_dataloader = val_dataloader
val_evaluator = [
    dict(
        type='SeenUnseenIoUMetric',
        seen_classes=seen,
        unseen_classes=unseen,
        class_names=classes)
]
test_evaluator = val_evaluator
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(32, 32)),
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch'),
    decode_head=dict(
        type='ZegFormerHead',
        in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3],
        channels=64,
        num_classes=len(classes),
        ignore_index=255,
        class_embeddings=dict(
            type='ClassEmbeddings',
            class_names=classes,
            vectors='projects/zero_shot/data/'
            'synthetic_kinds_attributes.json'),
        seen_classes=seen,
        num_queries=16,
        num_decoder_layers=2,
        num_heads=4,
        temperature=0.01),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=0.1, norm_type=2))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1000, val_interval=500)
val_cfg = dict(type='ValLoop')
log_processor = dict(by_epoch=False)
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False))
