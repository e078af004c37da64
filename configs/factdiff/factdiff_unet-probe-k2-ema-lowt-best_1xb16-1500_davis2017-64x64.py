# The README's main job setting (EMA read-out, bf16 autocast, 1,500
# iterations, half the training timesteps from t < 200, the checkpoint of
# highest label-free region gain kept) trained on the frames of DAVIS 2017
# videos and scored zero-shot by J&F (unsupervised protocol), at the
# resolutions of the earlier DAVIS configs. The region gain is scored on
# the frames themselves (pixels only: the model is trained on them, as
# unsupervised video methods are); the labels are read by the J&F and
# foreground IoU logged beside it, never by the selection. Measured result
# and command: docs/davis2017.md.
_base_ = './factdiff_unet-probe-k2-ema_1xb16-1500_davis2017-64x64.py'
model = dict(
    scheduler=dict(
        type='LowNoiseOversamplingScheduler', low_t_max=200, low_t_prob=0.5),
    test_cfg=dict(region_gain=True))
val_evaluator = [
    dict(type='RegionGainMetric'),
    dict(type='DAVISMetric', task='unsupervised'),
    dict(type='ForegroundIoUMetric')
]
test_evaluator = val_evaluator
# every 100 iterations: a validation pass over the frames costs about as
# much as 20 training steps on 2 cores
train_cfg = dict(val_interval=100)
default_hooks = dict(checkpoint=dict(save_best='region_gain', rule='greater'))
