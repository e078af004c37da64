# The EMA remedy (read-out of an EMA of the weights, momentum 0.01) trained
# for 1,500 iterations, meant to run under bf16 autocast (--amp --amp-dtype
# bfloat16), where 1,500 iterations take about as long as 1,000 in fp32 on
# a CPU with bf16 units: the EMA runs still rose at 1,000 iterations
# (docs/emergence.md).
_base_ = './factdiff_probe-unet-k2-ema0.01_1xb32-1k_synthetic-shapes-32x32.py'
train_cfg = dict(max_iters=1500)
