# DatasetDDPM-unsup on the built-in data: k-means over the frozen plain
# probe U-Net's DDPM-seg features (no labels), on the 128 held-out images of
# the main job's validation split; per image (foreground IoU, polarity
# rule) and over the split (dataset_kmeans/mIoU, Hungarian). Test only,
# with the plain U-Net's checkpoint:
#   python tools/train.py projects/emergence_study/configs/plain-unet_probe-unet-k1_1xb32-1k_synthetic-shapes-32x32.py  # noqa: E501
#   python tools/test.py THIS_CONFIG \
#       work_dirs/plain-unet_probe-unet-k1_1xb32-1k_synthetic-shapes-32x32/iter_1000.pth  # noqa: E501
_base_ = [
    './_base_/models/datasetddpm-unsup_probe-unet-k1.py',
    '../../../configs/_base_/datasets/synthetic_shapes-32x32.py',
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
