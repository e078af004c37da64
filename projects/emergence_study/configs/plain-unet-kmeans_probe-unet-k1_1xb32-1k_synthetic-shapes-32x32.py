# The plain-U-Net baseline of the main job ("DatasetDDPM-unsup" per image):
# the main job's network, data and schedule with ONE region, which makes it
# an ordinary U-Net denoiser; read out by per-image k-means (K = 2) on its
# decoder's last features at t = 30.
_base_ = '../../../configs/factdiff/factdiff_unet-probe-k2_1xb32-1k_synthetic-32x32.py'
custom_imports = dict(
    imports=['mmfactdiff', 'projects.emergence_study.emergence_study'],
    allow_failed_imports=False)
model = dict(
    type='PlainUNetKMeansSegmentor',
    num_clusters=2,
    decode_head=dict(num_classes=1))
# sampling a one-region model's masks says nothing
custom_hooks = [dict(type='MaskUsageHook', min_usage=0.02, patience=200)]
