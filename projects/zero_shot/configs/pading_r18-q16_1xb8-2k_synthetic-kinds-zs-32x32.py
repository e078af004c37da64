# PADing on the built-in data's seen/unseen split (seen: background,
# ellipse, rectangle, triangle; unseen: star): over the ZegFormer model of
# zegformer_r18-q16_1xb8-1k_synthetic-kinds-zs-32x32.py, trained first and
# frozen (pass its checkpoint with --cfg-options
# model.frozen_checkpoint=PATH), a primitive generator learns to make query
# features from class vectors (the kinds' attribute vectors) and a new
# classifier learns from the real seen-class queries and fake star
# features. PADing's schedule: 2,000 iterations, generator Adam 5e-4,
# classifier SGD 1e-3 (momentum 0.9, weight decay 5e-4), unseen weight 5,
# generator losses GMMN + 0.001 CE + 0.001 structure. Batch 8 (PADing's is
# 12) as the stage-1 model's; the generator is scaled to the 64-wide
# queries (8 heads, feed-forward 256; PADing: 256 wide, 1024).
_base_ = './zegformer_r18-q16_1xb8-1k_synthetic-kinds-zs-32x32.py'
model = dict(
    type='PADingSegmentor',
    frozen_checkpoint=None,
    generator=dict(
        type='PrimitiveGenerator',
        num_primitives=400,
        num_layers=3,
        num_heads=8,
        ffn_dims=256,
        dropout=0.3,
        noise=True),
    gmmn_loss=dict(type='GMMNLoss', sigmas=(2, 5, 10, 20, 40, 80)),
    num_choose=17,
    unseen_weight=5.0,
    no_object_weight=0.1,
    cls_weight=0.001,
    structure_weight=0.001)
optim_wrapper = dict(
    _delete_=True,
    constructor='SubmoduleOptimWrapperConstructor',
    generator=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=5e-4)),
    classifier=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=5e-4)))
train_cfg = dict(max_iters=2000, val_interval=500)
default_hooks = dict(checkpoint=dict(interval=1000))
