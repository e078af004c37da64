# The ADM-style tiny config stopped at 1k iterations, where the measured
# foreground IoU of the block-Gumbel masks peaked on the seeds run
# (projects/emergence_study/history.md); past it, region 1 drifts towards
# object texture.
_base_ = '../factdiff_unet-tiny-k2_1xb32-2k_synthetic-32x32.py'
train_cfg = dict(max_iters=1000, val_interval=500)
