# The paper's Flowers-102 setting: the ADM 64x64 model trained label-free
# for 50k iterations of batch 128 on the IEM/ReDO train split, evaluated
# with the IEM/ReDO foreground protocol (per-image polarity rule, which
# needs K = 2 regions: object / rest). The paper also shows K = 3; for it
# set model.decode_head.num_classes=3 and
# ForegroundIoUMetric(fg_rule='dataset_majority') (uses GT labels).
# Not measured here (no Flowers data on the machines that built this).
_base_ = [
    '../_base_/models/factdiff_unet.py',
    '../_base_/datasets/flowers102-64x64.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_adam_50k.py'
]
model = dict(decode_head=dict(num_classes=2))
