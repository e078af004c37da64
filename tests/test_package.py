# Copyright (c) mmfactdiff contributors. All rights reserved.
import os.path as osp
import subprocess
import sys

import pytest

import mmfactdiff


def test_version_and_guard_messages():
    assert mmfactdiff.__version__ == '.'.join(
        str(v) for v in mmfactdiff.version_info)
    with pytest.raises(AssertionError, match=r'mmcv==2\.2\.0 is used but'):
        mmfactdiff._check_version('mmcv', '2.2.0', mmfactdiff.MMCV_MIN,
                                  mmfactdiff.MMCV_MAX)
    mmfactdiff._check_version('mmcv', '2.1.0', mmfactdiff.MMCV_MIN,
                              mmfactdiff.MMCV_MAX)


def test_every_component_is_registered_in_mmseg_registries():
    from mmseg.registry import DATASETS, HOOKS, METRICS, MODELS, TASK_UTILS

    from mmfactdiff.registry import DIFFUSION_SCHEDULERS
    assert DIFFUSION_SCHEDULERS is TASK_UTILS
    expected = {
        MODELS: [
            'DiffusionUNetEncoder', 'MaskGeneratorHead', 'ParallelUNetDecoder',
            'FactorizedDiffusionSegmentor'
        ],
        TASK_UTILS: ['DDPMNoiseScheduler', 'DDIMNoiseScheduler'],
        DATASETS: [
            'SyntheticShapesDataset', 'UnlabeledImageDataset',
            'DAVIS2017Dataset'
        ],
        METRICS: ['ForegroundIoUMetric', 'HungarianIoUMetric', 'DAVISMetric'],
        HOOKS: [
            'MaskUsageHook', 'SampleVisualizationHook',
            'RegionVisualizationHook'
        ],
    }
    for registry, names in expected.items():
        for name in names:
            assert registry.get(name) is not None, (registry.name, name)


def test_mmagic_imports_and_its_scheduler_samples_our_model():
    """The pinned stack serves mmseg and mmagic together, and mmagic's DDIM
    scheduler can drive our model's sampling loop (fresh process: mmagic's
    import registers many modules)."""
    code = '\n'.join([
        'import torch, mmfactdiff, mmseg.models, mmagic.models',
        'from mmagic.registry import DIFFUSION_SCHEDULERS as S',
        'from mmengine.registry import init_default_scope',
        'from mmseg.registry import MODELS',
        'from tiny_models import tiny_segmentor',
        'assert S.get("EditDDIMScheduler") is not None',
        'assert len(S.module_dict) >= 20, len(S.module_dict)',
        'init_default_scope("mmseg")',
        'model = MODELS.build(tiny_segmentor()).eval()',
        'theirs = S.build(dict(type="EditDDIMScheduler",',
        '    num_train_timesteps=100, variance_type="fixed_small"))',
        'out = model.sample(2, num_steps=4, scheduler=theirs)',
        'assert out["images"].shape == (2, 3, 16, 16)',
        'assert torch.isfinite(out["images"]).all()',
    ])
    proc = subprocess.run([sys.executable, '-W', 'ignore', '-c', code],
                          capture_output=True,
                          text=True,
                          timeout=300,
                          cwd=osp.dirname(osp.abspath(__file__)))
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_import_mmfactdiff_does_not_import_mmagic():
    code = ('import sys, mmfactdiff\n'
            'assert "mmagic" not in sys.modules, "mmagic imported"\n')
    proc = subprocess.run([sys.executable, '-W', 'ignore', '-c', code],
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
