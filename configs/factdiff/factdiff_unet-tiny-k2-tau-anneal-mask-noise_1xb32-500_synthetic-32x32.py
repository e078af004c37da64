# The main job with its training masks computed from an independent noising
# of the same images (train_cfg.mask_noise='independent'; not in the
# paper), so that the partition cannot carry the noise the decoder is
# scored on. A diagnostic and remedy measured in docs/emergence.md ("Do the
# masks carry the noise?"); test time and sampling are unchanged.
_base_ = './factdiff_unet-tiny-k2-tau-anneal_1xb32-500_synthetic-32x32.py'
model = dict(train_cfg=dict(mask_noise='independent'))
