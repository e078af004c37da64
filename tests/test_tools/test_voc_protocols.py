# Copyright (c) mmfactdiff contributors. All rights reserved.
"""The VOC evaluation configs end to end on generated VOC-layout data with
a randomly initialised tiny model: tools/test.py for the unsupervised
protocols (Hungarian mIoU and per-class fg/bg, with overlays), the runner
for the zero-shot class-conditional protocol."""
import glob
import os.path as osp
import subprocess
import sys
import uuid

from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.runner import Runner

from benchmark_fixtures import (TINY_64, loader_options, make_voc,
                                save_random_checkpoint)

VOC_CONFIG = osp.join(REPO_ROOT, 'configs', 'factdiff',
                      'factdiff_unet-k3_1xb64-50k_voc12-64x64.py')
ZERO_SHOT_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'factdiff',
    'factdiff_unet-cond-k2_8xb64-500k_imagenet-64x64_voc12-zeroshot-64x64.py')


def _options(voc_root, splits):
    opts = dict(TINY_64)
    opts.update(loader_options(*splits))
    for split in splits:
        opts[f'{split}_dataloader.dataset.data_root'] = voc_root
    return opts


def _cli(opts):

    def value(v):
        if isinstance(v, tuple):
            return '[' + ','.join(map(str, v)) + ']' if v else '[]'
        return str(v)

    return [f'{k}={value(v)}' for k, v in opts.items()]


def test_voc_unsupervised_protocols_with_test_tool(tmp_path):
    voc = make_voc(str(tmp_path / 'data'))
    # only the test data exists: --show-dir must not build the train loop
    opts = _options(voc, ('test', ))
    cfg = Config.fromfile(VOC_CONFIG)
    cfg.merge_from_dict(opts)
    ckpt = save_random_checkpoint(cfg, str(tmp_path / 'random.pth'))
    work = tmp_path / 'work'
    proc = subprocess.run(
        [
            sys.executable,
            osp.join(REPO_ROOT, 'tools', 'test.py'), VOC_CONFIG, ckpt,
            '--work-dir',
            str(work), '--show-dir',
            str(work / 'vis'), '--cfg-options'
        ] + _cli(opts),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    # both protocols are named, and their tables list the VOC classes
    assert 'protocol: Hungarian-matched mIoU, dataset-level' in log
    assert 'protocol: per-class foreground/background' in log
    assert 'USES GT LABELS' in log  # K = 3: label-assisted fg assignment
    for name in ('aeroplane', 'cat', 'dog', 'person', 'tvmonitor'):
        assert name in log
    for key in ('mIoU', 'aAcc', 'mIoU_fg_per_class_dataset_majority',
                'IoU_fg_dataset_majority'):
        assert f'{key}:' in log, key
    overlays = glob.glob(str(work / 'vis' / '**' / '*.jpg'), recursive=True)
    overlays += glob.glob(str(work / 'vis' / '**' / '*.png'), recursive=True)
    assert len(overlays) == 4  # one per val image


def test_voc_zero_shot_protocol_conditions_on_the_mapped_class(tmp_path):
    voc = make_voc(str(tmp_path / 'data'))
    cfg = Config.fromfile(ZERO_SHOT_CONFIG)
    cfg.merge_from_dict(_options(voc, ('test', )))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.load_from = save_random_checkpoint(cfg, str(tmp_path / 'cond.pth'))
    cfg.visualizer.name = f'visualizer-{uuid.uuid4().hex[:8]}'
    runner = Runner.from_cfg(cfg)

    seen = []
    model = runner.model
    original = model._cond_labels

    def spy(metas, device):
        labels = original(metas, device)
        seen.extend(labels.tolist())
        return labels

    model._cond_labels = spy
    metrics = runner.test()
    assert set(metrics) == {
        'mAcc_zero_shot', 'mIoU_zero_shot', 'mDICE_zero_shot'
    }
    assert all(0 <= v <= 100 for v in metrics.values())
    # cat, dog, person, aeroplane -> their 'condition_on' ImageNet classes
    assert sorted(seen) == sorted([281, 207, 981, 404])
