# DatasetDDPM-unsup on the Weizmann Horse photos: k-means over the frozen
# plain probe U-Net's DDPM-seg features (the U-Net trained label-free on
# the photos at 32x32), on the 236 photos that DDPM-seg's 20 labelled ones
# leave out, segmented at 32x32 and scored at each photo's size; per image
# (foreground IoU, polarity rule) and over the split (dataset_kmeans/mIoU,
# Hungarian). Test only, with the plain U-Net's checkpoint:
#   python tools/train.py projects/emergence_study/configs/plain-unet_probe-unet-k1_1xb32-1k_weizmann-horse-32x32.py  # noqa: E501
#   python tools/test.py THIS_CONFIG \
#       work_dirs/plain-unet_probe-unet-k1_1xb32-1k_weizmann-horse-32x32/iter_1000.pth  # noqa: E501
_base_ = [
    './_base_/models/datasetddpm-unsup_probe-unet-k1.py',
    '../../../configs/_base_/datasets/weizmann_horse-20-labelled-32x32.py',
    './_base_/default_runtime.py', './_base_/schedules/test_only.py'
]
custom_imports = dict(
    imports=[
        'mmfactdiff', 'projects.ddpm_seg.ddpm_seg',
        'projects.leopart_eval.leopart_eval'
    ],
    allow_failed_imports=False)
val_evaluator = {{_base_.datasetddpm_unsup_evaluator}}
test_evaluator = val_evaluator
