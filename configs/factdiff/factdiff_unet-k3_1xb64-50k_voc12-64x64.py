# PASCAL VOC 2012, unsupervised: the ADM 64x64 model with K = 3 regions
# trained label-free on the images of the VOC train list (50k iterations of
# batch 64), evaluated on val with
#   - Hungarian-matched 21-class mIoU (dataset-level, maximising IoU), and
#   - per-class foreground/background Acc/IoU/DICE; with K = 3 the
#     foreground regions are assigned once on the split by GT majority
#     (label-assisted, stated in the output keys).
# To score another model (e.g. one pretrained on ImageNet) with these
# protocols, use this config with that checkpoint and --cfg-options for
# its model settings. Not measured here (no VOC data on these machines).
_base_ = [
    '../_base_/models/factdiff_unet.py', '../_base_/datasets/voc12-64x64.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_adam_50k.py'
]
val_evaluator = [
    dict(type='HungarianIoUMetric'),
    dict(type='PerClassForegroundMetric', fg_rule='dataset_majority'),
]
test_evaluator = val_evaluator
