# ZegFormer's evaluation on VOC 15/5 with its second branch (the
# original's zegformer_R101_bs32_10k_vit16_voc_gzss_eval.yaml: ENSEMBLING,
# CLIP_CLS_STYLE cropmask, GZERO_CALIBRATE 0.1): every segment's masked
# crop classified by CLIP ViT-B/16's image encoder, fused with the head's
# scores at 2/3 (CLIPImageClassifier, ZegFormerSegmentor). For testing a
# checkpoint of the training config (the CLIP weights are not in it):
#   python tools/test.py THIS_CONFIG work_dirs/.../iter_10000.pth \
#       --cfg-options model.clip_branch.checkpoint=checkpoints/clip_vit-b16.pth
# The image tower is read from the same local OpenAI CLIP state dict as
# the text embeddings (projects/zero_shot/README.md). Not run here.
_base_ = './zegformer_r101-q100_4xb8-10k_voc12-zs15-5-512x512.py'
model = dict(
    clip_branch=dict(
        type='CLIPImageClassifier',
        checkpoint=None,
        crop_style='cropmask',
        crop_size=224),
    clip_weight=2 / 3)
