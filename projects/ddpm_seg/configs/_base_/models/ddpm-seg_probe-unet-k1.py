# DDPM-seg on the plain probe U-Net (K = 1, 32x32): pixel features of its
# frozen decoder at t = 50, 150, 250 (one fixed noise draw), an ensemble of
# 10 pixel MLPs (dim -> 128 -> 32 -> K), majority vote. The U-Net's weights
# come from `backbone.checkpoint`, a tools/train.py checkpoint of the
# plain U-Net (set by each config).
_base_ = './probe-unet-k1.py'
plain_unet = {{_base_.model}}
model = dict(
    _delete_=True,
    type='PixelClassifierSegmentor',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[127.5, 127.5, 127.5],  # images to [-1, 1], as the U-Net's
        std=[127.5, 127.5, 127.5],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(32, 32)),
    backbone=dict(
        type='DiffusionFeatureBackbone',
        unet=plain_unet,
        img_size=32,
        # 4 of the 6 output blocks (8x8 upsampled to 16x16, 16x16, 16x16
        # upsampled to 32x32, 32x32): the middle of the decoder and one
        # late block, as the original's 5-8 and 12 of 18 (not tuned here)
        blocks=(1, 2, 3, 4),
        steps=(50, 150, 250),
        noise_seed=0,
        checkpoint=None),
    decode_head=dict(
        type='PixelMLPEnsembleHead',
        num_classes=2,
        num_members=10,
        hidden_channels=(128, 32),
        num_train_pixels=256,
        predict_mode='vote',
        ignore_index=255,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
