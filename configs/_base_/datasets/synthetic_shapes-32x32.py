# The built-in procedural dataset: textured objects on textured
# backgrounds, generated on the fly (no files). Train and val use different
# seeds, so they never share an image. Labels are read by the metrics only.
dataset_type = 'SyntheticShapesDataset'
img_size = 32
train_pipeline = [
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
# Validation while training: the samples arrive rendered, nothing to do
val_pipeline = [dict(type='PackSegInputs')]
# Testing and inference on any image file or array (mmseg's
# inference_model reads cfg.test_pipeline, MMSegInferencer the test
# dataloader's pipeline; docs/inference.md). Resized to the model
# resolution; predictions come back at the original size. The synthetic
# dataset drops the loading step itself (its images are rendered).
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=32,
    # rendering takes about a millisecond an image (docs/datasets.md); on 2
    # cores a worker process would only compete with training for the CPU
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        num_samples=10000,
        img_size=img_size,
        num_kinds=4,
        label_mode='binary',
        seed=0,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        num_samples=128,
        img_size=img_size,
        num_kinds=4,
        label_mode='binary',
        seed=1,
        test_mode=True,
        pipeline=val_pipeline))
# the held-out split of validation, through the inference pipeline
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], pipeline=test_pipeline))
val_evaluator = [
    dict(type='ForegroundIoUMetric'),
    dict(type='HungarianIoUMetric')
]
test_evaluator = val_evaluator
