# Diagnostic: does more varied training data make regions emerge on the
# Weizmann Horse photos? The main job's setting on the photos
# (configs/factdiff/factdiff_unet-probe-k2-ema-lowt-best_1xb32-1500_weizmann-horse-32x32.py)
# with random resized crops: each photo is resized to 32 to 64 pixels a
# side and a random 32x32 window is cut from it (as little as a quarter of
# the photo's area, so a crop may hold part of the horse only), then
# flipped.
# 256 photos at batch 32 are seen about 190 times in 1,500 iterations;
# with crops the model sees fewer exact repeats. Evaluation is unchanged
# (the whole photo at 32x32).
_base_ = '../../../configs/factdiff/factdiff_unet-probe-k2-ema-lowt-best_1xb32-1500_weizmann-horse-32x32.py'  # noqa: E501
img_size = 32
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResize',
        scale=(img_size, img_size),
        ratio_range=(1.0, 2.0),
        keep_ratio=False),
    dict(type='RandomCrop', crop_size=(img_size, img_size)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
