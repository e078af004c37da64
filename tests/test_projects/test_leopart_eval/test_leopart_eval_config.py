# Copyright (c) mmfactdiff contributors. All rights reserved.
"""The project's config evaluates a factorized model's encoder from a
tools/train.py-style checkpoint, as its README says."""
import os.path as osp
import uuid

import torch
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.runner import Runner
from mmseg.registry import MODELS

CONFIG = osp.join(
    REPO_ROOT, 'projects/leopart_eval/configs/'
    'leopart-eval_factdiff-probe-encoder-k2_1xb32-test_synthetic-32x32.py')
MAIN_JOB = osp.join(
    REPO_ROOT,
    'configs/factdiff/factdiff_unet-probe-k2_1xb32-1k_synthetic-32x32.py')


def test_config_loads_the_encoder_of_a_factorized_checkpoint(tmp_path):
    # a factorized model of the main job, saved as tools/train.py does
    factdiff = MODELS.build(Config.fromfile(MAIN_JOB).model)
    state = factdiff.state_dict()
    ckpt = str(tmp_path / 'iter_1000.pth')
    torch.save(dict(state_dict=state, meta=dict()), ckpt)

    cfg = Config.fromfile(CONFIG)
    assert cfg.model.backbone == Config.fromfile(MAIN_JOB).model.backbone
    cfg.merge_from_dict({
        'test_dataloader.dataset.num_samples': 8,
        'test_dataloader.batch_size': 8,
        'test_evaluator.0.seeds': (0, 1),
    })
    # only what the runner needs to test
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                'val_dataloader', 'val_cfg', 'val_evaluator'):
        cfg[key] = None
    cfg.work_dir = str(tmp_path / 'work')
    cfg.load_from = ckpt
    cfg.log_level = 'WARNING'
    cfg.visualizer.name = f'visualizer-{uuid.uuid4().hex[:8]}'
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()

    backbone = runner.model.backbone.state_dict()
    for key, value in backbone.items():
        assert torch.equal(value, state['backbone.' + key]), key
    # K = the 5 shape-kind classes: Hungarian, label-free keys only
    assert set(metrics) == {
        'dense_cluster/mIoU', 'dense_cluster/mIoU_std', 'dense_cluster/aAcc',
        'dense_cluster/mAcc'
    }
    metric = runner.test_evaluator.metrics[0]
    assert metric.dataset_meta['classes'][0] == 'background'
    assert len(metric.dataset_meta['classes']) == 5
    # the middle block: 64 channels at 8x8 per 32x32 image (>= pca_dim)
    feats = runner.model.extract_feat(torch.zeros(1, 3, 32, 32))
    assert feats.shape == (1, 64, 8, 8) and metric.pca_dim == 50
