# DatasetDDPM-unsup on the plain probe U-Net (K = 1, 32x32): k-means over
# the SAME frozen features as DDPM-seg's pixel classifiers (the backbone of
# ./ddpm-seg_probe-unet-k1.py: decoder blocks 1-4 at t = 50, 150, 250, one
# fixed noise draw), per image (K = 2 clusters, pred_sem_seg) and, through
# feature_field, over the whole split (DenseClusterMetric). No labels are
# used. The U-Net's weights: the tools/train.py checkpoint of the plain
# U-Net given to tools/test.py (weights_prefix maps its keys).
_base_ = './ddpm-seg_probe-unet-k1.py'
model = dict(
    _delete_=True,
    type='FeatureKMeansSegmentor',
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone={{_base_.model.backbone}},
    num_clusters=2,
    kmeans_seed=0,
    feature_field='dense_features',
    weights_prefix='backbone.unet.')
# The metrics of both read-outs (configs set val/test_evaluator to it):
# per image, the foreground IoU (polarity rule) and Hungarian mIoU of the
# factorized model's tables; over the split, DenseClusterMetric
# (projects/leopart_eval): all pixels' features clustered at once (z-norm,
# PCA to 50, K = the classes, 5 k-means seeds) and matched to the classes
# by the Hungarian algorithm.
datasetddpm_unsup_evaluator = [
    dict(type='ForegroundIoUMetric'),
    dict(type='HungarianIoUMetric'),
    dict(
        type='DenseClusterMetric',
        num_clusters=None,
        feature_field='dense_features',
        eval_size=None,
        pca_dim=50,
        seeds=(0, 1, 2, 3, 4),
        niter=100,
        nredo=5,
        matching='auto',
        prefix='dataset_kmeans')
]
