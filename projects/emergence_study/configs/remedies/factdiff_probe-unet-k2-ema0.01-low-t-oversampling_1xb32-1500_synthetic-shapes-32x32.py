# A remedy for collapse on the built-in data: the main job's setting (EMA
# read-out, 1,500 iterations; run under bf16 autocast with --amp
# --amp-dtype bfloat16, as the main job's five seeds were) with half of
# the training timesteps drawn from t < 200, where the masks split images
# (LowNoiseOversamplingScheduler; uniform over [0, 1000) otherwise). Asks
# whether training the shared decoder more often on masked images keeps
# the regions from collapsing (docs/emergence.md, section 5).
_base_ = './factdiff_probe-unet-k2-ema0.01_1xb32-1500_synthetic-shapes-32x32.py'  # noqa: E501
custom_imports = dict(
    imports=['mmfactdiff', 'projects.emergence_study.emergence_study'],
    allow_failed_imports=False)
model = dict(
    scheduler=dict(
        type='LowNoiseOversamplingScheduler', low_t_max=200, low_t_prob=0.5))
