# Copyright (c) mmfactdiff contributors. All rights reserved.
"""The main config keeps the checkpoint of highest region gain (a
label-free score), and the study's replay of that selection on recorded
runs picks the same checkpoint with the same scores."""
import glob
import json
import os.path as osp

import pytest
from conftest import REPO_ROOT, load_tool

from tiny_configs import train_briefly

MAIN = osp.join(
    REPO_ROOT, 'configs/factdiff/'
    'factdiff_unet-probe-k2-ema-lowt-best_1xb32-1500_synthetic-32x32.py')
TOOLS = 'projects/emergence_study/tools/'


@pytest.fixture(scope='module')
def main_run(tmp_path_factory):
    """4 iterations of batch 4 of the main config, validated (and
    checkpointed) at every iteration on 8 images."""
    return train_briefly(
        MAIN,
        str(tmp_path_factory.mktemp('main')),
        {
            'train_dataloader.batch_size':
            4,
            'val_dataloader.dataset.num_samples':
            8,
            'val_dataloader.batch_size':
            4,
            'train_cfg.max_iters':
            4,
            'train_cfg.val_interval':
            1,
            'default_hooks.logger.interval':
            1,
            'default_hooks.checkpoint.interval':
            1,
            'default_hooks.checkpoint.max_keep_ckpts':
            -1,
            'randomness.seed':
            1,
            # the replay pairs the gain with the recorded scores of the
            # same split
            'val_evaluator':
            [dict(type='RegionGainMetric'),
             dict(type='ForegroundIoUMetric')],
        })


def test_main_config_selects_by_region_gain(main_run, tmp_path):
    best = glob.glob(osp.join(main_run, 'best_region_gain_iter_*.pth'))
    assert len(best) == 1
    best_iter = int(best[0].rsplit('_', 1)[1][:-4])
    out = str(tmp_path / 'rows.json')
    load_tool(TOOLS + 'record_results.py').main([
        main_run, '--dataset', 'synthetic_shapes', '--method', 'tiny', '--out',
        out
    ])
    with open(out) as f:
        logged = {
            r['iterations']: r['value']
            for r in json.load(f) if r['metric'] == 'region_gain'
        }
    assert sorted(logged) == [1, 2, 3, 4]
    # the hook kept the first maximum of what validation logged
    assert best_iter == max(logged, key=lambda i: (logged[i], -i))
    # the replay scores each checkpoint as validation did and picks it too
    new = load_tool(TOOLS + 'region_gain_selection.py').main([
        main_run, '--config', MAIN, '--method', 'selected', '--out', out,
        '--cfg-options', 'val_dataloader.dataset.num_samples=8'
    ])
    replayed = {
        r['iterations']: r['value']
        for r in new if r['metric'] == 'region_gain'
    }
    assert replayed == pytest.approx(logged, abs=0.011)
    chosen = next(r for r in new if r['method'] == 'selected')
    assert chosen['selected_iteration'] == best_iter
    assert chosen['metric'] == 'fg_IoU' and chosen['iterations'] == 4
    assert chosen['labels_used'] == 0
