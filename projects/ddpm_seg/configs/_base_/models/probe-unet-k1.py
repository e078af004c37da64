# The plain U-Net that DDPM-seg reads on a CPU: the main job's probe U-Net
# (configs/_base_/models/factdiff_unet-probe.py) with ONE region, so its
# mask is 1 everywhere and it is an ordinary U-Net denoiser. It is the
# network of projects/emergence_study's plain-unet-kmeans configs, whose
# tools/train.py checkpoints the DDPM-seg configs load.
_base_ = '../../../../../configs/_base_/models/factdiff_unet-probe.py'
model = dict(decode_head=dict(num_classes=1))
