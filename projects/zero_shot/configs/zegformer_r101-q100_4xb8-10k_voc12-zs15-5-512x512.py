# ZegFormer on PASCAL VOC 2012 with the 15/5 zero-shot split, as the
# original's VOC configs (configs/pascal_voc/*voc.yaml, Base-VOC-20.yaml;
# ../../../docs or the project README for the protocol): the 20 object
# classes (background is not a class: its pixels are ignored, as in
# ZegFormer's prepare_pascal_voc_seen.py), the last five unseen (potted
# plant, sheep, sofa, train, tv monitor: ZS3Net's split); CLIP ViT-B/16
# text embeddings of "A photo of a {} in the scene." from a LOCAL
# checkpoint (set clip_checkpoint; README: how to convert OpenAI's
# release); ResNet-101, 100 queries, 6 decoder layers, AdamW 1e-4, 32
# images a step (4 GPUs x 8), 10k iterations, 512x512 crops. Scored on
# val by mIoU over the seen and the unseen classes and their harmonic
# mean. Not run here (no VOC, no CLIP weights, no GPU); a test trains and
# tests a shrunk copy on generated VOC-layout data and CLIP weights.
# The original's CLIP image branch (cropmask fusion at 2/3), used at
# evaluation only: the ..._zegformer-clip_... config.
_base_ = ['../../../configs/_base_/default_runtime.py']
custom_imports = dict(
    imports=['mmfactdiff', 'projects.zero_shot.zero_shot'],
    allow_failed_imports=False)
custom_hooks = []  # none of the factorized model's hooks
clip_checkpoint = 'checkpoints/clip_vit-b16.pth'
# ImageNet weights of mmseg's ResNetV1c-101, from a local file (mmseg's
# open-mmlab://resnet101_v1c, downloaded once elsewhere)
backbone_checkpoint = 'checkpoints/resnet101_v1c.pth'
voc_root = 'data/VOCdevkit/VOC2012'
crop_size = (512, 512)
# the 20 object classes in VOC's order (mmseg's names), background left out
# so that mmseg's label map sends its pixels to 255 (ignored)
voc_classes = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car',
               'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse',
               'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train',
               'tvmonitor')
# the names CLIP reads (ZegFormer's: plain words)
prompt_names = [
    'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat',
    'chair', 'cow', 'dining table', 'dog', 'horse', 'motorbike', 'person',
    'potted plant', 'sheep', 'sofa', 'train', 'tv monitor'
]
seen, unseen = list(range(15)), list(range(15, 20))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=(2048, 512),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
dataset = dict(
    type='PascalVOCDataset',
    data_root=voc_root,
    metainfo=dict(classes=voc_classes),
    data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'))
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        dataset,
        ann_file='ImageSets/Segmentation/train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        dataset,
        ann_file='ImageSets/Segmentation/val.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='SeenUnseenIoUMetric',
    seen_classes=seen,
    unseen_classes=unseen,
    class_names=list(voc_classes))
test_evaluator = val_evaluator
model = dict(
    type='ZegFormerSegmentor',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=crop_size),
    backbone=dict(
        type='ResNetV1c',
        depth=101,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint=backbone_checkpoint)),
    decode_head=dict(
        type='ZegFormerHead',
        in_channels=[256, 512, 1024, 2048],
        in_index=[0, 1, 2, 3],
        channels=256,
        num_classes=len(voc_classes),
        ignore_index=255,
        class_embeddings=dict(
            type='ClassEmbeddings',
            class_names=prompt_names,
            text_encoder=dict(
                type='CLIPTextEncoder',
                templates=['A photo of a {} in the scene.']),
            clip_checkpoint=clip_checkpoint),
        seen_classes=seen,
        num_queries=100,
        num_decoder_layers=6,
        num_heads=8,
        temperature=0.01,
        # the original's VOC evaluation (zegformer_R101_bs32_10k_vit16_voc_
        # gzss_eval.yaml: GZERO_CALIBRATE 0.1, there with its CLIP branch)
        seen_calibration=0.1),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
# MaskFormer's solver, which ZegFormer inherits: AdamW 1e-4, weight decay
# 1e-4, the whole model's gradient clipped to norm 0.01
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),
    clip_grad=dict(max_norm=0.01, norm_type=2))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=10000, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
log_processor = dict(by_epoch=False)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2000),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False))
