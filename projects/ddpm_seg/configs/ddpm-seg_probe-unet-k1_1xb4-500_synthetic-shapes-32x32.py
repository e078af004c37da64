# DDPM-seg on the built-in data: the frozen plain probe U-Net (K = 1,
# trained label-free on the built-in images), pixel classifiers trained on
# the labels of 20 images (500 iterations of 4 images x 256 drawn pixels),
# scored on the 128 held-out images. The U-Net checkpoint is the one
#   python tools/train.py projects/emergence_study/configs/plain-unet_probe-unet-k1_1xb32-1k_synthetic-shapes-32x32.py  # noqa: E501
# writes (default work dir); another: --cfg-options
# model.backbone.checkpoint=PATH.
_base_ = [
    './_base_/models/ddpm-seg_probe-unet-k1.py',
    './_base_/datasets/synthetic-shapes-20-labelled-32x32.py',
    './_base_/default_runtime.py', './_base_/schedules/schedule_adam_500.py'
]
model = dict(
    backbone=dict(checkpoint='work_dirs/plain-unet_probe-unet-k1_1xb32-1k_'
                  'synthetic-shapes-32x32/iter_1000.pth'))
