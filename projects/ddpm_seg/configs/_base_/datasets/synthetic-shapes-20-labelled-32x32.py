# The built-in data with labels for N = 20 images (the repository's shared
# base), scored by mmseg's mIoU (the original's compute_iou), the
# foreground IoU with class 1 as the foreground and, for comparison with
# the label-free tables, the per-image polarity rule (best of P and not-P
# per image: never lower).
_base_ = ('../../../../../configs/_base_/datasets/'
          'synthetic_shapes-20-labelled-32x32.py')
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='ForegroundIoUMetric', fg_rule='dataset_majority'),
    dict(type='ForegroundIoUMetric', fg_rule='polarity')
]
test_evaluator = val_evaluator
