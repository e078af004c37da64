# Leopart's clustering evaluation of the main job's encoder: the dense
# features of the factorized model's U-Net encoder (the probe architecture
# of configs/factdiff/factdiff_unet-probe-k2_1xb32-1k_synthetic-32x32.py,
# K = 2 regions) on the 128 held-out built-in images, labelled by shape
# kind (5 classes: background and 4 kinds). Test only:
#   python tools/test.py THIS_CONFIG \
#       work_dirs/factdiff_unet-probe-k2_1xb32-1k_synthetic-32x32/iter_1000.pth
# The checkpoint's backbone.* weights are loaded into the encoder; the
# rest of the factorized model (mask generator, decoder) is skipped with
# mmengine's unexpected-key warning. The features are the encoder's
# middle block (in_index=-1: 64 channels at 8x8, stride 4) on clean images
# (the encoder's default_timestep=0); PCA to 50, K = 5 clusters, Hungarian
# matching, 5 seeds, scored at 32x32 (the images' size). The
# over-clustering number (label-using) is e.g.
#   --cfg-options test_evaluator.0.num_clusters=50
_base_ = [
    '../../../configs/_base_/models/factdiff_unet-probe.py',
    '../../../configs/_base_/datasets/synthetic_shapes-32x32.py',
    '../../../configs/_base_/default_runtime.py'
]
custom_imports = dict(
    imports=['mmfactdiff', 'projects.leopart_eval.leopart_eval'],
    allow_failed_imports=False)
# none of the factorized model's hooks (EMA, mask usage, sample grids)
custom_hooks = []
model = dict(
    _delete_=True,
    type='DenseFeatureExtractor',
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone={{_base_.model.backbone}},
    in_index=-1,
    output_size=None)
# the held-out split (seed 1) labelled by shape kind
label_mode = 'kind'
val_dataloader = dict(dataset=dict(label_mode=label_mode))
test_dataloader = dict(dataset=dict(label_mode=label_mode))
dense_cluster_metric = dict(
    type='DenseClusterMetric',
    num_clusters=None,  # = the 5 classes: Hungarian matching
    feature_field='seg_logits',
    eval_size=32,
    pca_dim=50,
    seeds=(0, 1, 2, 3, 4),
    niter=100,
    nredo=5,
    matching='auto')
val_evaluator = [dense_cluster_metric]
test_evaluator = [dense_cluster_metric]
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# mmengine's Runner wants train_dataloader, train_cfg and optim_wrapper all
# set or all unset, and the repository's config test builds the training
# set: these are placeholders. The model is evaluation-only
# (DenseFeatureExtractor.loss raises); train the factorized model with its
# own config.
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1, val_interval=1)
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.))
