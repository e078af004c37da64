# Class-conditional pretraining on ImageNet-64 (paper: 500k iterations of
# batch 512; here 8 processes x 64): the ADM 64x64 model with a learned
# class embedding added to the timestep embedding (shared by encoder, mask
# generator and decoder), K = 2 regions. The class index comes from the
# image's class folder ('class_label' metainfo). Training only: ImageNet
# has no segmentation labels here; the zero-shot VOC evaluation of this
# model is factdiff_unet-cond-k2_8xb64-500k_imagenet-64x64_voc12-zeroshot-
# 64x64.py. Not measured here (no ImageNet data on these machines).
_base_ = [
    '../_base_/models/factdiff_unet.py',
    '../_base_/datasets/imagenet-64x64.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_adam_50k.py'
]
model = dict(
    backbone=dict(num_classes=1000),
    decode_head=dict(num_classes=2),
    cond_label_key='class_label')
train_cfg = dict(max_iters=500000, val_interval=500000)
val_cfg = None
val_dataloader = None
val_evaluator = None
default_hooks = dict(checkpoint=dict(interval=50000))
