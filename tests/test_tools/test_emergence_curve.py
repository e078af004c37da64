# Copyright (c) mmfactdiff contributors. All rights reserved.
"""tools/analysis_tools/emergence_curve.py: the config's training hooks
(tau schedule, dead-region restart) act in its plain loop as they do in the
runner, and the run file records them."""
import json
import os.path as osp

from conftest import load_tool
from tiny_configs import tiny_config

TOOL = 'tools/analysis_tools/emergence_curve.py'


def _curve(tmp_path, hooks, iters=4, **options):
    cfg = tiny_config(str(tmp_path), max_iters=iters, **options)
    cfg.custom_hooks = list(cfg.custom_hooks) + hooks
    cfg_file = osp.join(tmp_path, 'cfg.py')
    cfg.dump(cfg_file)
    out = osp.join(tmp_path, 'run.json')
    load_tool(TOOL).main([
        cfg_file, '--iters', str(iters), '--eval-every', '2',
        '--num-eval', '4', '--out', out
    ])
    with open(out) as f:
        return json.load(f)


def test_tau_schedule_is_applied_and_recorded(tmp_path):
    run = _curve(tmp_path, [
        dict(type='TauScheduleHook', start=1.0, end=0.2, mode='linear')
    ], **{'model.decode_head.mask_sampling': 'gumbel'})
    assert run['iters'] == 4
    name, = run['remedies']
    assert name.startswith('TauScheduleHook(') and 'end=0.2' in name
    # set before each iteration from runner.iter: the 4th (iter 3 of 4)
    taus = [pt['tau'] for pt in run['curve']]
    assert taus[0] == 1.0 + (1 / 4) * (0.2 - 1.0)
    assert abs(taus[1] - (1.0 + (3 / 4) * (0.2 - 1.0))) < 1e-9
    assert all(0 < pt['min_train_usage'] <= 0.5 for pt in run['curve'])
    assert run['curve'][-1]['restarts'] == 0


def test_dead_region_restart_fires_in_the_loop(tmp_path):
    # with K = 2 at least one region is under 0.6 at every iteration, so
    # every iteration restarts one or both
    run = _curve(tmp_path, [
        dict(type='DeadRegionRestartHook', min_usage=0.6, patience=0,
             priority='LOW')
    ])
    assert run['remedies'][0].startswith('DeadRegionRestartHook(')
    first, second = [pt['restarts'] for pt in run['curve']]
    assert 2 <= first <= 4 and first + 2 <= second <= 8


def test_usage_balance_and_mask_noise_are_named(tmp_path):
    run = _curve(tmp_path, [], iters=2,
                 **{'model.train_cfg': dict(usage_balance_weight=0.5,
                                            mask_noise='independent')})
    assert run['remedies'] == ['usage_balance_weight=0.5',
                               'mask_noise=independent']
    assert run['curve'][-1]['tau'] is not None


def test_separate_lr_and_training_data_are_named(tmp_path):
    run = _curve(tmp_path, [], iters=2, **{
        'optim_wrapper.paramwise_cfg':
        dict(custom_keys={'decode_head': dict(lr_mult=10.0)}),
        'train_dataloader.dataset.background_waves': (0, 0),
        'train_dataloader.dataset.textures': ['stripe'],
    })
    assert run['remedies'] == ['lr_mult=10.0']
    assert run['data'] == ['background_waves=(0, 0)',
                           "textures=('stripe',)"]


def test_assigned_fg_iou_takes_the_union_the_labels_choose():
    import numpy as np
    tool = load_tool(TOOL)
    gt = np.zeros((4, 4), np.int64)
    gt[:, 2:] = 1  # right half is the object
    # regions 1 and 2 split the object; region 0 is the background
    pred = np.zeros((4, 4), np.int64)
    pred[:2, 2:], pred[2:, 2:] = 1, 2
    assert tool.assigned_fg_iou([pred], [gt], 3) == 1.0
    # the assignment is fixed on the split, not chosen per image: a second
    # image whose region 0 is the object scores 0 (no polarity rule)
    flipped = np.where(gt == 1, 0, 1)
    assert tool.assigned_fg_iou([pred] * 3 + [flipped], [gt] * 4, 3) == 0.75
    # ignored pixels count nowhere (a class id of 3 is foreground too)
    gt_ign = np.where(pred == 2, 255, gt * 3)
    assert tool.assigned_fg_iou([pred], [gt_ign], 3) == 1.0


def test_k3_run_records_assigned_fg_iou(tmp_path):
    run = _curve(tmp_path, [], iters=2,
                 **{'model.decode_head.num_classes': 3})
    point = run['curve'][-1]
    for weights in ('raw', 'ema'):
        assert 0.0 <= point[weights]['fg_iou_assigned'] <= 1.0
        assert 'fg_iou' not in point[weights]  # polarity rule: K = 2 only
        assert len(point[weights]['usage']) == 3
