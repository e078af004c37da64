# A label-using probe of the factorized model's encoder (Leopart's linear
# probe protocol, on this repository's probe U-Net): mmseg's EncoderDecoder
# with the probe encoder, frozen (lr_mult 0: its weights never change),
# read at clean images (default_timestep 0), and mmseg's FCNHead with no
# conv (num_convs=0): a 1x1 conv on the 64-channel middle features, i.e. a
# per-pixel linear classifier, its logits upsampled to the label size.
# The encoder's weights come from a tools/train.py checkpoint of a model
# whose backbone is the probe encoder: each config sets the backbone's
# init_cfg (mmengine's Pretrained with prefix 'backbone.'); another
# checkpoint: --cfg-options model.backbone.init_cfg.checkpoint=PATH
_base_ = '../../../../configs/_base_/models/factdiff_unet-probe.py'
model = dict(
    _delete_=True,
    type='EncoderDecoder',
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone={{_base_.model.backbone}},
    decode_head=dict(
        type='FCNHead',
        in_channels=64,
        in_index=-1,
        channels=64,
        num_convs=0,
        concat_input=False,
        dropout_ratio=0.,
        num_classes=2,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
