# A remedy for collapse on the built-in data: the low-noise oversampling
# setting (half the training timesteps from t < 200, EMA read-out, bf16
# autocast with --amp --amp-dtype bfloat16) with batch 64 for 1,000
# iterations (about the main job's 20-minute budget on 2 cores). Asks
# whether halving the gradient noise keeps the regions from collapsing:
# Adam's steps on the mask generator were measured noise-dominated
# (docs/emergence.md, section 5). Fresh images every step, as before.
_base_ = './factdiff_probe-unet-k2-ema0.01-low-t-oversampling_1xb32-1500_synthetic-shapes-32x32.py'  # noqa: E501
train_dataloader = dict(batch_size=64)
train_cfg = dict(max_iters=1000)
