# The factorized model's label-free regions named by a segment classifier,
# on the same seen/unseen split of the built-in data as ZegFormer's config
# (seen: background, ellipse, rectangle, triangle; unseen: star). The
# segments come from a trained factorized model (the README's main job
# architecture; pass its checkpoint with --cfg-options
# model.mask_source.checkpoint=PATH); the classifier (an mmseg ResNet-18
# from random weights and SegmentClassifierHead: segment-averaged pixel
# embeddings against the classes' attribute vectors at temperature 0.01)
# trains on the labelled segments of the seen classes for 1,000 iterations
# of 8 images, star pixels unused. Scored by SeenUnseenIoUMetric.
_base_ = './zegformer_r18-q16_1xb8-1k_synthetic-kinds-zs-32x32.py'
classes = ['background', 'ellipse', 'rectangle', 'triangle', 'star']
seen = [0, 1, 2, 3]
factdiff_config = 'configs/factdiff/factdiff_unet-probe-k2_1xb32-1k_synthetic-32x32.py'  # noqa: E501
# ZegFormer's config with its head swapped and the mask source added; the
# ResNet-18 backbone is inherited
model = dict(
    type='RegionClassifierSegmentor',
    # the mask source's normalisation: images to [-1, 1]
    data_preprocessor=dict(
        mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5]),
    mask_source=dict(config=factdiff_config, checkpoint=None),
    decode_head=dict(
        _delete_=True,
        type='SegmentClassifierHead',
        in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3],
        channels=64,
        num_classes=len(classes),
        ignore_index=255,
        class_embeddings=dict(
            type='ClassEmbeddings',
            class_names=classes,
            vectors='projects/zero_shot/data/'
            'synthetic_kinds_attributes.json'),
        seen_classes=seen,
        temperature=0.01))
