# MaskGeneratorHead on an mmseg ResNet-18 from random weights, trained
# with the labels of 20 Weizmann Horse photos at 32x32 (500 iterations)
# and scored on the other 236 at their own size.
_base_ = [
    './_base_/mask-generator-head_r18.py',
    '../../../configs/_base_/datasets/weizmann_horse-20-labelled-32x32.py',
    './_base_/default_runtime.py', './_base_/schedule_adam_500.py'
]
# the backbone trains too (the probes' schedule freezes it)
optim_wrapper = dict(paramwise_cfg=dict(_delete_=True))
