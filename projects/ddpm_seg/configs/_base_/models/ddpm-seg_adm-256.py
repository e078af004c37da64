# DDPM-seg as published: guided-diffusion's 256x256 unconditional U-Net
# (the LSUN / FFHQ models' MODEL_FLAGS: --num_channels 256 --num_res_blocks
# 2 --attention_resolutions 32,16,8 --num_head_channels 64
# --resblock_updown True --use_scale_shift_norm True --learn_sigma True),
# output blocks 5, 6, 7, 8, 12 at t = 50, 150, 250: 8448 channels at
# 256x256. The weights are a local guided-diffusion .pt (ADM key names),
# e.g. lsun_horse.pt for Horse-21: set model.backbone.checkpoint. No
# top-level config uses this base (building the 553M-parameter U-Net takes
# seconds and 3 GB); the project README shows the config to write.
model = dict(
    type='PixelClassifierSegmentor',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(256, 256)),
    backbone=dict(
        type='DiffusionFeatureBackbone',
        unet=dict(
            type='ADMUNet',
            image_size=256,
            model_channels=256,
            out_channels=6,
            num_res_blocks=2,
            attention_resolutions=(32, 16, 8),
            num_head_channels=64,
            resblock_updown=True,
            use_scale_shift_norm=True),
        img_size=256,
        blocks=(5, 6, 7, 8, 12),
        steps=(50, 150, 250),
        noise_seed=0,
        checkpoint=None),
    decode_head=dict(
        type='PixelMLPEnsembleHead',
        num_classes=2,
        num_members=10,
        hidden_channels=(128, 32),
        num_train_pixels=1024,
        predict_mode='vote',
        ignore_index=255,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
