# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Every config under configs/ parses and builds its model offline; the
built-in data's configs also build their datasets."""
import glob
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT
from mmengine.config import Config
from mmseg.registry import DATASETS, MODELS

CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)
PROJECT_CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(REPO_ROOT, 'projects', '*', 'configs', '**', '*.py'),
        recursive=True) if '_base_' not in p)
FILE_FREE_DATASETS = ('SyntheticShapesDataset', 'SimpleShapesDataset')


def _rel(path):
    return osp.relpath(path, REPO_ROOT)


def test_there_are_configs():
    assert len(CONFIGS) >= 5


@pytest.mark.parametrize('path', CONFIGS + PROJECT_CONFIGS, ids=_rel)
def test_config_builds(path):
    cfg = Config.fromfile(path)
    imports = cfg.get('custom_imports', {}).get('imports', [])
    assert imports[:1] == ['mmfactdiff'], \
        'configs must import the plugin through custom_imports'
    # a project's config may import its own modules (mmseg's convention)
    assert all(m.startswith('projects.') for m in imports[1:]), imports
    model_cfg = cfg.model.copy()
    model_cfg.pop('pretrained', None)
    model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) > 0
    dataset_cfg = cfg.train_dataloader.dataset
    if dataset_cfg.type in FILE_FREE_DATASETS:
        dataset = DATASETS.build(dataset_cfg.copy())
        sample = dataset[0]
        inputs = sample['inputs']
        if isinstance(inputs, list):  # multi-crop views (projects/leopart)
            assert inputs and all(
                torch.is_tensor(x) and x.dim() == 3 for x in inputs)
        else:
            assert inputs.dtype == torch.uint8
    name = osp.basename(path)
    # {algo}_{model}_{gpus}xb{batch}-{schedule}_{dataset}-{res}.py
    parts = name[:-3].split('_')
    assert len(parts) >= 4 and 'xb' in parts[2], \
        f'{name} does not follow the OpenMMLab config naming'


def test_model_index_points_at_real_configs():
    """What ``mim`` reads: every metafile the model index imports exists,
    and every entry names a config that exists under its own name."""
    import yaml
    with open(osp.join(REPO_ROOT, 'configs', 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    assert index['Import']
    # projects' metafiles are not in mim's index (mmseg's convention) but
    # follow the same rules
    projects = sorted(
        osp.relpath(p, REPO_ROOT) for p in glob.glob(
            osp.join(REPO_ROOT, 'projects', '*', 'metafile.yaml')))
    assert 'projects/ddpm_seg/metafile.yaml' in projects
    for metafile in index['Import'] + projects:
        with open(osp.join(REPO_ROOT, metafile)) as f:
            models = yaml.safe_load(f)['Models']
        names = [m['Name'] for m in models]
        assert len(names) == len(set(names)), f'{metafile}: repeated names'
        for model in models:
            config = model['Config']
            assert osp.isfile(osp.join(REPO_ROOT, config)), \
                f'{metafile}: {model["Name"]} names a missing {config}'
            assert osp.basename(config) == model['Name'] + '.py', \
                f'{metafile}: {model["Name"]} is not named after {config}'


DAVIS_SUBSET = osp.normpath(
    osp.join(REPO_ROOT, '..', 'shared', 'data', 'davis2017_subset'))


@pytest.mark.skipif(
    not osp.isdir(DAVIS_SUBSET), reason='shared DAVIS subset not present')
def test_davis_config_reads_the_official_layout():
    """Training sees only frames (64x64 crops, no masks); evaluation sees
    112x64 frames with their full-size masks and video metadata."""
    import mmfactdiff  # noqa: F401
    path = osp.join(REPO_ROOT, 'configs', 'factdiff',
                    'factdiff_unet-tiny-k2_1xb16-1k_davis2017-64x64.py')
    cfg = Config.fromfile(path)
    train_cfg = cfg.train_dataloader.dataset
    train_cfg.data_root = DAVIS_SUBSET
    train = DATASETS.build(train_cfg)
    assert len(train) == 199
    sample = train[0]
    assert sample['inputs'].shape == (3, 64, 64)
    assert 'gt_sem_seg' not in sample['data_samples']
    val_cfg = cfg.test_dataloader.dataset
    val_cfg.data_root = DAVIS_SUBSET
    val = DATASETS.build(val_cfg)
    assert val.sequences == ['blackswan', 'car-shadow', 'dog', 'libby']
    sample = val[0]
    assert sample['inputs'].shape == (3, 64, 112)
    meta = sample['data_samples'].metainfo
    assert meta['ori_shape'] == (480, 854)
    assert meta['sequence'] == 'blackswan' and meta['frame_index'] == 0
    assert sample['data_samples'].gt_sem_seg.data.shape == (1, 480, 854)
