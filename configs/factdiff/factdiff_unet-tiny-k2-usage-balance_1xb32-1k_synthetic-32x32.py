# Remedy (not in the paper): adds 0.01 * KL(batch-mean mask usage || uniform)
# to the denoising loss. Measured over 5 seeds (it hurt):
# projects/emergence_study/history.md.
_base_ = './factdiff_unet-tiny-k2_1xb32-1k_synthetic-32x32.py'
model = dict(train_cfg=dict(usage_balance_weight=0.01))
