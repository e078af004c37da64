# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/zero_shot: the VOC 15/5 ZegFormer config trains and tests
through the standard tools on generated VOC-layout data and generated CLIP
weights (shrunk: the real run needs VOC, CLIP ViT-B/16 and GPUs)."""
import os.path as osp
import subprocess
import sys

import torch
from mmengine.config import Config
from test_projects.test_zero_shot.test_class_embeddings import (HEADS, LAYERS,
                                                                OUT, D,
                                                                _clip_state)

from benchmark_fixtures import make_voc

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIG = osp.join(REPO, 'projects', 'zero_shot', 'configs',
                  'zegformer_r101-q100_4xb8-10k_voc12-zs15-5-512x512.py')


def test_the_split_is_zegformers():
    cfg = Config.fromfile(CONFIG)
    assert len(cfg.voc_classes) == 20 and 'background' not in cfg.voc_classes
    unseen = [cfg.voc_classes[i] for i in cfg.unseen]
    assert unseen == ['pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor']
    assert cfg.seen == list(range(15))
    head = cfg.model.decode_head
    assert head.num_queries == 100 and head.num_decoder_layers == 6
    assert head.class_embeddings.text_encoder.templates == [
        'A photo of a {} in the scene.'
    ]


def test_background_is_ignored_and_classes_shift_down(tmp_path):
    """mmseg's label map from the 20-class metainfo: VOC's background (0)
    becomes 255, class c becomes c - 1 (person: 15 -> 14)."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    init_default_scope('mmseg')
    cfg = Config.fromfile(CONFIG)
    cfg.test_dataloader.dataset.data_root = make_voc(str(tmp_path / 'd'))
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    gt = dataset[1]['data_samples'].gt_sem_seg.data  # VOC classes 12, 15
    assert set(gt.unique().tolist()) == {11, 14, 255}


def _shrunk(tmp_path) -> str:
    voc = make_voc(str(tmp_path / 'data'), size=(48, 36))
    clip = str(tmp_path / 'clip_tiny.pth')
    torch.save(_clip_state(), clip)
    cfg = Config.fromfile(CONFIG)
    small = (32, 32)
    cfg.merge_from_dict({
        'work_dir':
        str(tmp_path / 'work'),
        'train_dataloader.batch_size':
        2,
        'train_dataloader.num_workers':
        0,
        'train_dataloader.persistent_workers':
        False,
        'val_dataloader.num_workers':
        0,
        'val_dataloader.persistent_workers':
        False,
        'test_dataloader.num_workers':
        0,
        'test_dataloader.persistent_workers':
        False,
        'train_cfg.max_iters':
        2,
        'train_cfg.val_interval':
        2,
        'default_hooks.checkpoint.interval':
        2,
        'model.data_preprocessor.size':
        small,
        'model.backbone.depth':
        18,
        'model.backbone.norm_cfg.type':
        'BN',
        'model.backbone.init_cfg':
        None,
        'model.decode_head.in_channels': [64, 128, 256, 512],
        'model.decode_head.channels':
        16,
        'model.decode_head.num_queries':
        4,
        'model.decode_head.num_decoder_layers':
        1,
        'model.decode_head.num_heads':
        2,
        'model.decode_head.class_embeddings.clip_checkpoint':
        clip,
        'model.decode_head.class_embeddings.text_encoder':
        dict(
            type='CLIPTextEncoder',
            templates=['A photo of a {} in the scene.'],
            embed_dims=D,
            num_layers=LAYERS,
            num_heads=HEADS,
            output_dims=OUT),
    })
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = voc
    cfg.train_dataloader.dataset.pipeline[2].scale = (64, 32)
    cfg.train_dataloader.dataset.pipeline[3].crop_size = small
    cfg.test_dataloader.dataset.pipeline[1].scale = (64, 32)
    cfg.val_dataloader = cfg.test_dataloader
    path = str(tmp_path / 'voc_zs_tiny.py')
    cfg.dump(path)
    return path


def _run(args):
    out = subprocess.run(
        [sys.executable] + args,
        cwd=REPO,
        capture_output=True,
        text=True,
        env=dict(
            __import__('os').environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1'))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout + out.stderr


def test_trains_and_tests_with_the_standard_tools(tmp_path):
    config = _shrunk(tmp_path)
    work = str(tmp_path / 'work')
    _run(['tools/train.py', config, '--work-dir', work])
    log = _run([
        'tools/test.py', config,
        osp.join(work, 'iter_2.pth'), '--work-dir',
        str(tmp_path / 'test')
    ])
    assert 'mIoU_seen' in log and 'mIoU_unseen' in log and 'hIoU' in log
    # the same checkpoint tested with the CLIP image branch (the
    # zegformer-clip config), both CLIP towers from one generated file
    from test_projects.test_zero_shot.test_clip_image_branch import VIT
    from test_projects.test_zero_shot.test_clip_image_branch import \
        _clip_state as _clip_visual
    both = dict(_clip_state())
    both.update({
        k: v
        for k, v in _clip_visual().items()
        if k != 'logit_scale' and not k.startswith('token_')
    })
    torch.save(both, str(tmp_path / 'clip_both.pth'))
    cfg = Config.fromfile(config)
    clip_cfg = Config.fromfile(CONFIG.replace('zegformer_', 'zegformer-clip_'))
    branch = dict(clip_cfg.model.clip_branch)
    branch.update(
        encoder=VIT,
        output_dims=OUT,
        crop_size=32,
        checkpoint=str(tmp_path / 'clip_both.pth'))
    cfg.model.clip_branch = branch
    cfg.model.decode_head.class_embeddings.clip_checkpoint = str(
        tmp_path / 'clip_both.pth')
    clip_config = str(tmp_path / 'voc_zs_clip_tiny.py')
    cfg.dump(clip_config)
    log = _run([
        'tools/test.py', clip_config,
        osp.join(work, 'iter_2.pth'), '--work-dir',
        str(tmp_path / 'test_clip')
    ])
    assert 'hIoU' in log
