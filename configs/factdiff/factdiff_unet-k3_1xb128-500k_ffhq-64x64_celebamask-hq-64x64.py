# Faces: the ADM 64x64 model with K = 3 regions trained label-free on FFHQ
# (500k iterations of batch 128, the paper's length), evaluated on
# CelebAMask-HQ (classes merged to background / face / hair by the
# converter) with unsupervised Hungarian mIoU. Validation every 50k
# iterations on the CelebAMask-HQ val split.
# Not measured here (no FFHQ / CelebAMask-HQ data on the machines that
# built this).
_base_ = [
    '../_base_/models/factdiff_unet.py', '../_base_/datasets/ffhq-64x64.py',
    '../_base_/datasets/celebamask_hq-64x64.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_adam_50k.py'
]
train_cfg = dict(max_iters=500000, val_interval=50000)
default_hooks = dict(checkpoint=dict(interval=50000))
