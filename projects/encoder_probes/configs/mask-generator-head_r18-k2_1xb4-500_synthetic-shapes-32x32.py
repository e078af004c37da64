# MaskGeneratorHead on an mmseg ResNet-18 from random weights, trained
# with labels (20 labelled images, 500 iterations; the probes' data and
# schedule) on the built-in data: a label-using baseline that shows the
# factorized model's head working with mmseg's own backbones.
_base_ = [
    './_base_/mask-generator-head_r18.py',
    '../../../configs/_base_/datasets/synthetic_shapes-20-labelled-32x32.py',
    './_base_/default_runtime.py', './_base_/schedule_adam_500.py'
]
# the backbone trains too (the probes' schedule freezes it)
optim_wrapper = dict(paramwise_cfg=dict(_delete_=True))
