# Copyright (c) mmfactdiff contributors. All rights reserved.
"""mmseg's inference APIs (``init_model``, ``inference_model``,
``MMSegInferencer``) on our configs and a checkpoint (docs/inference.md)."""
import os
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tiny_configs import MAIN_CONFIG, TINY_OPTIONS
from tiny_models import leave_zero_init

K = 2
# (h, w) of the test images: none is the model's 32x32
SIZES = {'a.png': (20, 28), 'b.jpg': (40, 24), 'c.png': (32, 48)}


@pytest.fixture(scope='module')
def assets(tmp_path_factory):
    """A tiny version of the main config, a checkpoint of a model whose
    outputs depend on every input, and three small images."""
    from mmseg.registry import MODELS

    import mmfactdiff  # noqa: F401
    root = tmp_path_factory.mktemp('inference')
    cfg = Config.fromfile(MAIN_CONFIG)
    cfg.merge_from_dict(TINY_OPTIONS)
    cfg_path = str(root / 'tiny.py')
    cfg.dump(cfg_path)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = leave_zero_init(MODELS.build(cfg.model), std=0.3)
    ckpt = str(root / 'tiny.pth')
    # what tools/train.py stores: the TRAINING set's metainfo
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(
                dataset_meta=dict(
                    classes=('background', 'object'),
                    palette=[[0, 0, 0], [255, 0, 0]]))), ckpt)
    img_dir = root / 'images'
    img_dir.mkdir()
    rng = np.random.default_rng(0)
    for name, (h, w) in SIZES.items():
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        img[:h // 2] //= 4  # a dark and a bright half
        mmcv.imwrite(img, str(img_dir / name))
    return dict(cfg_path=cfg_path, ckpt=ckpt, img_dir=str(img_dir))


def _images(assets):
    return [osp.join(assets['img_dir'], n) for n in sorted(SIZES)]


def _init(assets, **cfg_options):
    from mmseg.apis import init_model
    return init_model(
        assets['cfg_path'],
        assets['ckpt'],
        device='cpu',
        cfg_options=cfg_options or None)


def test_init_model_names_the_regions_not_the_training_labels(assets):
    model = _init(assets)
    assert model.dataset_meta['classes'] == ('region 0', 'region 1')
    assert len(model.dataset_meta['palette']) == K
    # the checkpoint's training-set metainfo is kept aside only
    assert model.source_dataset_meta['classes'] == ('background', 'object')
    named = _init(
        assets, **{
            'model.test_cfg.region_names': ['sky', 'ground'],
            'model.test_cfg.region_palette': [[0, 0, 255], [0, 255, 0]]
        })
    assert named.dataset_meta == dict(
        classes=('sky', 'ground'), palette=[[0, 0, 255], [0, 255, 0]])
    with pytest.raises(ValueError, match='2 entries'):
        _init(assets, **{'model.test_cfg.region_names': ['one']}).dataset_meta


def test_inference_model_on_files_and_arrays(assets):
    from mmseg.apis import inference_model
    model = _init(assets)
    paths = _images(assets)
    results = inference_model(model, paths)
    assert len(results) == len(paths)
    for path, res in zip(paths, results):
        h, w = SIZES[osp.basename(path)]
        assert res.metainfo['ori_shape'] == (h, w)
        assert res.metainfo['img_shape'] == (32, 32)  # the model resolution
        assert res.pred_sem_seg.data.shape == (1, h, w)
        assert res.seg_logits.data.shape == (K, h, w)
        ids = res.pred_sem_seg.data
        assert ids.min() >= 0 and ids.max() < K
        soft = res.seg_logits.data
        torch.testing.assert_close(soft.sum(0), torch.ones(h, w))
        torch.testing.assert_close(ids[0], soft.argmax(0))
    # the image has two halves: both regions appear somewhere
    assert {int(i)
            for r in results
            for i in r.pred_sem_seg.data.unique()} == set(range(K))
    # fixed noise seed: the same masks on every call, alone or in a batch
    for path, res in zip(paths, results):
        alone = inference_model(model, path)
        torch.testing.assert_close(alone.seg_logits.data, res.seg_logits.data)
    # a loaded array (BGR, like mmcv.imread) gives the file's result
    from_array = inference_model(model, mmcv.imread(paths[0]))
    torch.testing.assert_close(from_array.seg_logits.data,
                               results[0].seg_logits.data)


def test_test_cfg_changes_the_soft_masks(assets):
    from mmseg.apis import inference_model
    model = _init(assets)
    path = _images(assets)[0]

    def masks(**test_cfg):
        model.test_cfg.update(dict(t=5, num_noise_draws=1, noise_seed=0))
        model.test_cfg.update(test_cfg)
        return inference_model(model, path).seg_logits.data

    base = masks()
    torch.testing.assert_close(masks(), base)
    for change in (dict(t=60), dict(num_noise_draws=3), dict(noise_seed=1)):
        assert not torch.allclose(masks(**change), base, atol=1e-4), change
    # same settings through cfg_options
    via_cfg = _init(assets, **{'model.test_cfg.t': 60})
    torch.testing.assert_close(
        inference_model(via_cfg, path).seg_logits.data, masks(t=60))


def test_mmseg_inferencer(assets, tmp_path):
    """The inferencer takes the config file as it is: its test dataloader
    pipeline has the LoadImageFromFile step the inferencer requires."""
    from mmseg.apis import MMSegInferencer, inference_model
    cfg = Config.fromfile(assets['cfg_path'])
    inferencer = MMSegInferencer(
        model=assets['cfg_path'], weights=assets['ckpt'], device='cpu')
    inferencer.show_progress = False
    assert inferencer.model.dataset_meta['classes'] == ('region 0', 'region 1')
    paths = _images(assets)
    out = inferencer(paths, out_dir=str(tmp_path / 'out'), return_vis=True)
    reference = inference_model(_init(assets), paths)
    for path, pred, vis, ref in zip(paths, out['predictions'],
                                    out['visualization'], reference):
        h, w = SIZES[osp.basename(path)]
        assert pred.shape == (h, w) and vis.shape == (h, w, 3)
        np.testing.assert_array_equal(pred, ref.pred_sem_seg.data[0].numpy())
        assert osp.isfile(tmp_path / 'out' / 'vis' / osp.basename(path))
    assert len(os.listdir(tmp_path / 'out' / 'pred')) == len(paths)
    # a Config object works the same
    inferencer = MMSegInferencer(
        model=cfg, weights=assets['ckpt'], device='cpu')
    inferencer.show_progress = False
    res = inferencer(paths[0], return_datasamples=True)
    torch.testing.assert_close(res.seg_logits.data,
                               reference[0].seg_logits.data)


def test_built_in_test_data_runs_the_inference_pipeline():
    """The synthetic dataset drops the loading step of the shared
    test_pipeline and gives the same sample as the file-free pipeline."""
    from mmseg.registry import DATASETS
    cfg = Config.fromfile(MAIN_CONFIG)
    assert cfg.test_pipeline[0]['type'] == 'LoadImageFromFile'
    ds_cfg = cfg.test_dataloader.dataset
    assert [t['type'] for t in ds_cfg.pipeline
            ] == ['LoadImageFromFile', 'Resize', 'PackSegInputs']
    ds_cfg.num_samples = 2
    sample = DATASETS.build(ds_cfg)[1]
    plain = DATASETS.build(cfg.val_dataloader.dataset)[1]
    assert [t['type']
            for t in cfg.val_dataloader.dataset.pipeline] == ['PackSegInputs']
    assert sample['inputs'].shape == (3, 32, 32)
    torch.testing.assert_close(sample['inputs'], plain['inputs'])
    torch.testing.assert_close(sample['data_samples'].gt_sem_seg.data,
                               plain['data_samples'].gt_sem_seg.data)
    assert sample['data_samples'].img_path == plain['data_samples'].img_path
