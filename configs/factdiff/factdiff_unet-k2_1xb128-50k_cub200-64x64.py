# The paper's CUB-200-2011 setting: the ADM 64x64 model trained label-free
# for 50k iterations of batch 128 on ReDO's train split, evaluated with the
# IEM/ReDO foreground protocol (K = 2, per-image polarity rule). The noise
# level of the read-out (model.test_cfg.t) can be swept with
# tools/analysis_tools/noise_level_study.py (the paper's Fig. 18).
# Not measured here (no CUB data on the machines that built this).
_base_ = [
    '../_base_/models/factdiff_unet.py', '../_base_/datasets/cub200-64x64.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_adam_50k.py'
]
model = dict(decode_head=dict(num_classes=2))
