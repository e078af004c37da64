# The paper-size model (ADM 64x64 layout, K = 3) on the built-in data.
_base_ = [
    '../_base_/models/factdiff_unet.py',
    '../_base_/datasets/synthetic_shapes-64x64.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_adam_50k.py'
]
train_dataloader = dict(batch_size=64)
# K = 3 regions: the IEM/ReDO polarity rule is defined for 2 regions, so the
# foreground is the union of the regions assigned to it on the whole split
# (this assignment uses the labels; the metric says so in its output).
val_evaluator = [
    dict(type='ForegroundIoUMetric', fg_rule='dataset_majority'),
    dict(type='HungarianIoUMetric')
]
test_evaluator = val_evaluator
