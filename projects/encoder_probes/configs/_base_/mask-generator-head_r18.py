# The factorized model's mask generator (MaskGeneratorHead) as an ordinary
# mmseg decode head on an mmseg ResNet-18 (mmseg's EncoderDecoder), to be
# trained with labels, the ResNet with it. The ResNet starts from RANDOM
# weights (no ImageNet weights can be downloaded here; set
# model.backbone.init_cfg for a local file). Features at strides 4-32; the
# head upsamples from the bottleneck through the three skips to stride 4,
# and mmseg resizes its logits to the labels.
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(32, 32)),
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='MaskGeneratorHead',
        in_channels=[64, 128, 256, 512],
        in_strides=[4, 8, 16, 32],
        channels=32,
        channel_mults=(1, 2, 2, 2),
        num_groups=8,
        emb_channels=None,
        num_classes=2,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
