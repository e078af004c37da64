# CelebAMask-HQ faces for evaluation only (the paper segments them with an
# FFHQ-trained model), as written by
# tools/dataset_converters/celebamask_hq.py with the default class merging
# 'face-hair' (0 background, 1 face, 2 hair) and --size 64. Another
# --merge needs the matching metainfo classes here (the converter writes
# them to classes.json). Scored with unsupervised Hungarian mIoU
# (dataset-level matching; docs/evaluation.md 2a). Defines the val and test
# splits only: combine with a training dataset base such as
# ffhq-64x64.py. Preparation: docs/datasets.md, "CelebAMask-HQ".
celeba_root = 'data/celebamask_hq'
celeba_metainfo = dict(
    classes=('background', 'face', 'hair'),
    palette=[[0, 0, 0], [255, 160, 120], [120, 60, 20]])
celeba_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='LoadAnnotations'),  # after Resize: GT as stored
    dict(type='PackSegInputs')
]
celeba_split = dict(
    type='UnlabeledImageDataset',
    data_root=celeba_root,
    metainfo=celeba_metainfo,
    test_mode=True,
    pipeline=celeba_pipeline)
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **celeba_split,
        data_prefix=dict(img_path='images/val', seg_map_path='masks/val')))
test_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **celeba_split,
        data_prefix=dict(img_path='images/test', seg_map_path='masks/test')))
val_evaluator = dict(type='HungarianIoUMetric')
test_evaluator = val_evaluator
