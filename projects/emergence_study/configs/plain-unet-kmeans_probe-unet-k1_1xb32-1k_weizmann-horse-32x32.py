# The plain-U-Net baseline of the Weizmann Horse probe config, at equal
# training budget: the same network, photos (images only), flips and
# schedule with ONE region, which makes it an ordinary U-Net denoiser,
# read out by per-image k-means (K = 2) on its decoder's last features at
# t = 30 and scored like the factorized model.
_base_ = './factdiff_probe-unet-k2_1xb32-1k_weizmann-horse-32x32.py'
custom_imports = dict(
    imports=['mmfactdiff', 'projects.emergence_study.emergence_study'],
    allow_failed_imports=False)
model = dict(
    type='PlainUNetKMeansSegmentor',
    num_clusters=2,
    decode_head=dict(num_classes=1))
