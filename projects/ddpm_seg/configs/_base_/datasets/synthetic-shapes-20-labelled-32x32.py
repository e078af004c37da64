# The built-in data with labels for N = 20 images: the first 20 images of
# the training split (seed 0, the images the plain U-Net was trained on,
# without their masks) train the pixel classifiers; the 128 held-out
# images of the validation split (seed 1) score them. No flips (the
# original has no augmentation).
_base_ = '../../../../../configs/_base_/datasets/synthetic_shapes-32x32.py'
num_labelled = 20
train_dataloader = dict(
    batch_size=4,
    dataset=dict(indices=num_labelled, pipeline=[dict(type='PackSegInputs')]))
# mmseg's mIoU over the split (the original's compute_iou), and the
# foreground IoU per image: class 1 is the foreground ('dataset_majority'
# assigns it once on the split; for a trained classifier it keeps class 1)
# and, for comparison with the label-free tables, the per-image polarity
# rule (best of P and not-P per image: never lower)
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='ForegroundIoUMetric', fg_rule='dataset_majority'),
    dict(type='ForegroundIoUMetric', fg_rule='polarity')
]
test_evaluator = val_evaluator
