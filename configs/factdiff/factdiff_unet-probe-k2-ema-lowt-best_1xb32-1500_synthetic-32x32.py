# The README's main job: the best setting measured on the built-in data
# (docs/emergence.md). The EMA setting of
# `factdiff_unet-probe-k2-ema_1xb32-1500_synthetic-32x32.py` (probe
# architecture, per-pixel straight-through Gumbel masks, fresh images every
# step, Adam 2e-4, bf16 autocast, EMA read-out) plus two changes that the
# measurements chose:
# - half of the training timesteps drawn from t < 200
#   (LowNoiseOversamplingScheduler): runs reach higher scores (85 to 90);
# - the checkpoint is chosen without labels: every 50 iterations the EMA
#   weights are scored by their region gain (RegionGainMetric: how much the
#   model's own regions lower its denoising loss at the read-out's noise
#   level, on 128 unlabeled images of a separate split) and the best one is
#   kept as best_region_gain_iter_<n>.pth, which tools/run_main.sh tests.
#   Runs still collapse at times; the selection keeps the checkpoint from
#   before (the gain of a collapsed model is 0).
# Five seeds: fg IoU 76.7 / 83.9 / 86.9 / 90.0 / 85.0 (colour k-means 60.6;
# the runs' last checkpoints 76.0 / 87.7 / 32.2 / 90.0 / 85.3). About 13
# minutes on 2 cores with bf16 units (tools/run_main.sh, end to end).
_base_ = './factdiff_unet-probe-k2-ema_1xb32-1500_synthetic-32x32.py'
model = dict(
    scheduler=dict(
        type='LowNoiseOversamplingScheduler', low_t_max=200, low_t_prob=0.5),
    test_cfg=dict(region_gain=True))
# the selection split: 128 images never used for training or testing
# (seed 2; the test split is seed 1). Validation reads no labels; to
# follow the foreground IoU while training, add
# dict(type='ForegroundIoUMetric') to val_evaluator (it scores this split)
val_dataloader = dict(dataset=dict(seed=2))
val_evaluator = [dict(type='RegionGainMetric')]
test_evaluator = [
    dict(type='ForegroundIoUMetric'),
    dict(type='HungarianIoUMetric'),
    dict(type='RegionGainMetric'),
]
train_cfg = dict(val_interval=50)
default_hooks = dict(checkpoint=dict(save_best='region_gain', rule='greater'))
