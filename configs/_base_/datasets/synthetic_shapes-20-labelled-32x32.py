# The built-in data with labels for N = 20 images, for label-using
# baselines (projects/ddpm_seg, projects/encoder_probes): the first 20
# images of the training split (seed 0, the images the label-free models
# were trained on, without their masks) train the classifier; the 128
# held-out images of the validation split (seed 1) score it. No flips (the
# original DDPM-seg has no augmentation).
_base_ = './synthetic_shapes-32x32.py'
num_labelled = 20
train_dataloader = dict(
    batch_size=4,
    dataset=dict(indices=num_labelled, pipeline=[dict(type='PackSegInputs')]))
# mmseg's mIoU over the split, and the foreground IoU per image with class
# 1 as the foreground ('dataset_majority' assigns it once on the split; for
# a trained classifier it keeps class 1: no per-image flip)
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='ForegroundIoUMetric', fg_rule='dataset_majority')
]
test_evaluator = val_evaluator
