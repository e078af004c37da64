# DDPM-seg on Weizmann Horse at 32x32: the frozen plain probe U-Net trained
# label-free on the 256 photos, pixel classifiers trained on the masks of
# the first 20, scored on the other 236 at their own size. The U-Net
# checkpoint is the one
#   python tools/train.py projects/emergence_study/configs/plain-unet_probe-unet-k1_1xb32-1k_weizmann-horse-32x32.py  # noqa: E501
# writes (default work dir); another: --cfg-options
# model.backbone.checkpoint=PATH.
_base_ = [
    './_base_/models/ddpm-seg_probe-unet-k1.py',
    './_base_/datasets/weizmann-horse-20-labelled-32x32.py',
    './_base_/default_runtime.py', './_base_/schedules/schedule_adam_500.py'
]
model = dict(
    backbone=dict(checkpoint='work_dirs/plain-unet_probe-unet-k1_1xb32-1k_'
                  'weizmann-horse-32x32/iter_1000.pth'))
