# A remedy measured on the built-in data: the main job's setting (Adam
# 2e-4) with CollapseGuardHook, which rolls training back to the last
# weights whose regions split the training images when a run collapses onto
# one region (a label-free signal: docs/emergence.md).
_base_ = '../factdiff_probe-unet-k2_1xb32-1k_synthetic-shapes-32x32.py'
custom_imports = dict(
    imports=['mmfactdiff', 'projects.emergence_study.emergence_study'],
    allow_failed_imports=False)
custom_hooks = [
    dict(type='MaskUsageHook', min_usage=0.02, patience=200),
    dict(type='CollapseGuardHook', interval=25, min_share=0.1, patience=2),
]
