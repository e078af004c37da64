# Runtime shared by every mmfactdiff config: mmseg's runtime, the plugin
# import, EMA weights (used for validation, testing and sampling), region
# usage monitoring, sample grids, and TensorBoard beside the local logs.
_base_ = 'mmseg::_base_/default_runtime.py'
custom_imports = dict(imports=['mmfactdiff'], allow_failed_imports=False)
# ema = (1 - momentum) * ema + momentum * weights. The paper's 0.9999 decay
# is momentum=1e-4; short schedules override it (see each config).
ema_hook = dict(
    type='EMAHook',
    ema_type='ExponentialMovingAverage',
    momentum=1e-4,
    update_buffers=True,
    priority='ABOVE_NORMAL')
custom_hooks = [
    ema_hook,
    dict(type='MaskUsageHook', min_usage=0.02, patience=200),
    dict(
        type='SampleVisualizationHook',
        interval=5000,
        num_samples=16,
        num_steps=50),
]
vis_backends = [
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend')
]
visualizer = dict(
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
# A fixed seed by default (mmengine draws a random one when it is None):
# --resume is exact only with a fixed seed, since the data sampler's
# shuffle is seeded from it. diff_rank_seed: every process of a
# multi-process run draws its own timesteps and noise (seed + rank).
randomness = dict(seed=0, diff_rank_seed=True)
