# The plain-U-Net control of the Weizmann Horse probe config, at equal
# training budget: the same network, photos (images only), flips and
# schedule with ONE region, which makes it an ordinary U-Net denoiser.
# DatasetDDPM-unsup and DDPM-seg (projects/ddpm_seg) read its checkpoints.
_base_ = './factdiff_probe-unet-k2_1xb32-1k_weizmann-horse-32x32.py'
model = dict(decode_head=dict(num_classes=1))
# one region: no mask statistics to watch
custom_hooks = []
val_dataloader = None
val_cfg = None
val_evaluator = None
