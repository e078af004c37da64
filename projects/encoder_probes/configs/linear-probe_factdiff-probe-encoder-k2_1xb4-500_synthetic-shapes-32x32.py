# Linear probe (label-using: 20 labelled images) of the main job's frozen
# encoder on the built-in data. The encoder is the one
#   python tools/train.py configs/factdiff/factdiff_unet-probe-k2_1xb32-1k_synthetic-32x32.py  # noqa: E501
# writes (default work dir); another checkpoint (e.g. the plain U-Net's,
# same encoder): --cfg-options model.backbone.init_cfg.checkpoint=PATH
_base_ = [
    './_base_/linear-probe_factdiff-probe-encoder.py',
    '../../../configs/_base_/datasets/synthetic_shapes-20-labelled-32x32.py',
    './_base_/default_runtime.py', './_base_/schedule_adam_500.py'
]
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            prefix='backbone.',
            checkpoint='work_dirs/factdiff_unet-probe-k2_1xb32-1k_'
            'synthetic-32x32/iter_1000.pth')))
