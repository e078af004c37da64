# Weizmann Horse with labels for N = 20 photos (the repository's shared
# base), scored as synthetic-shapes-20-labelled-32x32.py: mIoU, the
# foreground IoU with class 1 as the foreground, and the per-image polarity
# rule.
_base_ = ('../../../../../configs/_base_/datasets/'
          'weizmann_horse-20-labelled-32x32.py')
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='ForegroundIoUMetric', fg_rule='dataset_majority'),
    dict(type='ForegroundIoUMetric', fg_rule='polarity')
]
test_evaluator = val_evaluator
