# The EMA remedy (read-out of an EMA of the weights, momentum 0.01) trained
# for 2,500 iterations under bf16 autocast (--amp --amp-dtype bfloat16):
# what one run does in the main job's 20 minutes when it has both cores of
# a 2-core CPU with bf16 units (about 0.41 s an iteration, against 0.66 in
# fp32; docs/emergence.md). The 1,500-iteration runs were still rising.
# The training set stays at 64,000 images (2,000 iterations of batch 32),
# so that the first 1,500 iterations are those of the 1,500-iteration runs
# (resumed from their checkpoints); the last 500 iterations see images
# again, in a new order.
_base_ = './factdiff_probe-unet-k2-ema0.01_1xb32-1k_synthetic-shapes-32x32.py'
train_cfg = dict(max_iters=2500)
