# The plain-U-Net control of the probe config: the same network, data and
# schedule with ONE region, which makes it an ordinary U-Net denoiser
# trained by the same loss. It has nothing to segment while it trains (no
# validation); its checkpoints are read by DatasetDDPM-unsup (k-means over
# its frozen decoder features) and DDPM-seg in projects/ddpm_seg, and its
# encoder by projects/encoder_probes and projects/leopart_eval.
_base_ = './factdiff_probe-unet-k2_1xb32-1k_simple-shapes-32x32.py'
model = dict(decode_head=dict(num_classes=1))
# one region: no mask statistics to watch
custom_hooks = []
val_dataloader = None
val_cfg = None
val_evaluator = None
