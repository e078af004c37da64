# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Tiny model configs shared by the model tests."""
import copy

TINY_UNET = dict(
    base_channels=8,
    channel_mults=(1, 2),
    num_res_blocks=1,
    attention_strides=(2, ),
    num_heads=2,
    num_groups=4)


def tiny_backbone(**kwargs):
    cfg = dict(type='DiffusionUNetEncoder', **TINY_UNET)
    cfg.update(kwargs)
    return cfg


# the U-Net output half of the tiny mask generator(s) and decoder
TINY_TRUNK = dict(
    channels=8,
    channel_mults=(1, 2),
    attention_strides=(2, ),
    num_heads=2,
    num_groups=4)


def tiny_mask_head(num_classes):
    """A tiny ``MaskGeneratorHead`` config (also a ``sub_mask_head``)."""
    return dict(
        type='MaskGeneratorHead', num_classes=num_classes, **TINY_TRUNK)


def tiny_segmentor(num_regions=3, **kwargs):
    cfg = dict(
        type='FactorizedDiffusionSegmentor',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[127.5] * 3,
            std=[127.5] * 3,
            bgr_to_rgb=True,
            size=(16, 16)),
        backbone=tiny_backbone(),
        decode_head=tiny_mask_head(num_regions),
        decoder=dict(type='ParallelUNetDecoder', **TINY_TRUNK),
        scheduler=dict(type='DDPMNoiseScheduler', num_train_timesteps=100),
        test_cfg=dict(t=10, img_size=16))
    for key, value in kwargs.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value
    return copy.deepcopy(cfg)


def leave_zero_init(module, std=0.1, seed=0):
    """Re-draw the parameters that ADM initialises to zero (residual
    outputs, attention projections, output convs), so that every input
    of every block influences the result in behaviour tests."""
    import torch
    gen = torch.Generator().manual_seed(seed)
    for p in module.parameters():
        if p.dim() > 0 and not p.detach().any():
            with torch.no_grad():
                p.copy_(torch.randn(p.shape, generator=gen) * std)
    return module
