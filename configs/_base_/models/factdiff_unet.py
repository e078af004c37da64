# Factorized diffusion U-Net (ADM layout) for 64x64 images, K = 3 regions.
# The mask generator and decoder are built from one U-Net output half
# (`trunk`) and read the encoder's feature widths and strides
# automatically (FactorizedDiffusionSegmentor fills both in).
num_regions = 3
base_channels = 128
channel_mults = (1, 2, 3, 4)
attention_strides = (4, 8)  # 16x16 and 8x8 at 64x64
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[127.5, 127.5, 127.5],  # images to [-1, 1]
    std=[127.5, 127.5, 127.5],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(64, 64))
model = dict(
    type='FactorizedDiffusionSegmentor',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='DiffusionUNetEncoder',
        in_channels=3,
        base_channels=base_channels,
        channel_mults=channel_mults,
        num_res_blocks=2,
        attention_strides=attention_strides,
        num_heads=4,
        dropout=0.,
        use_scale_shift_norm=True,
        with_cp=False),
    trunk=dict(
        channels=base_channels,
        channel_mults=channel_mults,
        attention_strides=attention_strides,
        num_heads=4),
    decode_head=dict(
        type='MaskGeneratorHead',
        num_classes=num_regions,
        mask_sampling='soft',
        tau=1.0),
    decoder=dict(type='ParallelUNetDecoder'),
    scheduler=dict(
        type='DDPMNoiseScheduler',
        num_train_timesteps=1000,
        beta_schedule='linear',
        beta_start=1e-4,
        beta_end=0.02),
    test_cfg=dict(
        mode='whole', t=30, num_noise_draws=1, noise_seed=0, img_size=64))
