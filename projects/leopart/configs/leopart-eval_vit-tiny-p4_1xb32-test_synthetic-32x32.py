# Leopart's clustering evaluation (projects/leopart_eval) of the ViT-tiny
# that leopart_vit-tiny-p4_1xb32-500_synthetic-shapes-32x32.py trains: its
# last layer's patch tokens (192 channels at 8x8 for a 32x32 image) on the
# 128 held-out built-in images labelled by shape kind (5 classes), PCA to
# 50, K = 5, Hungarian matching, 5 seeds. Test only:
#   python tools/test.py THIS_CONFIG \
#       work_dirs/leopart_vit-tiny-p4_1xb32-500_synthetic-shapes-32x32/iter_500.pth  # noqa: E501
# The checkpoint's backbone.* (the student) are read; the head and the EMA
# teacher are skipped. Over-clustering (label-using):
#   --cfg-options test_evaluator.0.num_clusters=50
_base_ = [
    '../../leopart_eval/configs/'
    'leopart-eval_factdiff-probe-encoder-k2_1xb32-test_synthetic-32x32.py',
    './_base_/vit-tiny-p4.py'
]
custom_imports = dict(
    imports=[
        'mmfactdiff', 'projects.leopart.leopart',
        'projects.leopart_eval.leopart_eval'
    ],
    allow_failed_imports=False)
model = dict(
    _delete_=True,
    type='DenseFeatureExtractor',
    # the training crops' normalisation (LeopartMultiCrop: ImageNet's, RGB)
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255),
    backbone={{_base_.vit_tiny_p4}},
    in_index=-1,
    output_size=None)
