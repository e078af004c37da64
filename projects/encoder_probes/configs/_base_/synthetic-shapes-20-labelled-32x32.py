# The built-in data with labels for N = 20 images (the first 20 of the
# training split, seed 0), as DDPM-seg's project uses them; scored on the
# 128 held-out images (seed 1). Foreground IoU keeps class 1 as the
# foreground ('dataset_majority': no per-image flip) and mmseg's mIoU.
_base_ = '../../../../configs/_base_/datasets/synthetic_shapes-32x32.py'
train_dataloader = dict(
    batch_size=4,
    dataset=dict(indices=20, pipeline=[dict(type='PackSegInputs')]))
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='ForegroundIoUMetric', fg_rule='dataset_majority')
]
test_evaluator = val_evaluator
