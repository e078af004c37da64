# FCN probe (Leopart's second probe: mmseg's FCNHead with two 3x3 convs;
# label-using: 20 labelled images) of the main job's frozen encoder on the
# built-in data; encoder checkpoint as in the linear probe's config.
_base_ = [
    './_base_/linear-probe_factdiff-probe-encoder.py',
    './_base_/synthetic-shapes-20-labelled-32x32.py',
    './_base_/default_runtime.py', './_base_/schedule_adam_500.py'
]
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            prefix='backbone.',
            checkpoint='work_dirs/factdiff_unet-probe-k2_1xb32-1k_'
            'synthetic-32x32/iter_1000.pth')),
    decode_head=dict(
        num_convs=2,
        channels=64,
        norm_cfg=dict(type='GN', num_groups=8, requires_grad=True)))
