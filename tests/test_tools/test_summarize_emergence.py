# Copyright (c) mmfactdiff contributors. All rights reserved.
"""tools/analysis_tools/summarize_emergence.py on hand-made run files."""
import json

import pytest

from conftest import load_tool


TOOL = 'tools/analysis_tools/summarize_emergence.py'


def _run(seed, points, kmeans=0.5, sampling='gumbel'):
    return dict(
        seed=seed,
        plain=False,
        mask_sampling=sampling,
        cfg_options={},
        machine='test',
        baselines=dict(
            all_foreground_fg_iou=0.2,
            colour_kmeans_fg_iou=kmeans,
            colour_kmeans_miou=0.3),
        curve=[
            dict(iter=i, ema=dict(fg_iou=v, miou=v, usage=u),
                 raw=dict(fg_iou=v, miou=v)) for i, v, u in points
        ])


RUNS = [
    # seed 0: collapses at 500, recovers by 1000
    _run(0, [(500, 0.25, [0.99, 0.01]), (1000, 0.85, [0.6, 0.4])]),
    _run(1, [(500, 0.55, [0.5, 0.5]), (1000, 0.65, [0.5, 0.5])], kmeans=0.6),
    _run(2, [(500, 0.30, [0.5, 0.5])], sampling='soft'),
]


def test_summary_counts_seeds_targets_and_collapses():
    tool = load_tool(TOOL)
    groups = {'gumbel': RUNS[:2], 'soft': RUNS[2:]}
    stats = tool.summarize(groups, [500, 1000], 'fg_iou', target=0.8)
    hard = stats['gumbel']
    assert hard['seeds'] == [0, 1]
    # a collapse at any evaluation counts, even when later recovered
    assert hard['collapse_rate'] == pytest.approx(0.5)
    assert tool.collapsed_at(RUNS[0]) == 500 and tool.collapsed_at(
        RUNS[1]) is None
    at_1000 = hard['by_iter'][1000]
    assert at_1000['n'] == 2
    assert at_1000['mean'] == pytest.approx(0.75)
    assert at_1000['std'] == pytest.approx(0.10)
    assert at_1000['reached_target'] == 1
    # each run is compared with its own k-means score (0.5 and 0.6)
    assert at_1000['beat_colour_kmeans'] == 2
    assert hard['by_iter'][500]['beat_colour_kmeans'] == 0
    assert 1000 not in stats['soft']['by_iter']
    assert stats['soft']['collapse_rate'] == 0


def test_cli_prints_both_tables_and_plots(tmp_path, capsys):
    tool = load_tool(TOOL)
    paths = []
    for i, run in enumerate(RUNS):
        path = tmp_path / f'run{i}.json'
        path.write_text(json.dumps(run))
        paths.append(str(path))
    plot = tmp_path / 'curve.png'
    tool.main(paths + ['--plot', str(plot)])
    out = capsys.readouterr().out
    assert '| gumbel | 0 | 0.250 (0.250) | 0.850 (0.850) | no |' in out
    assert '| gumbel | 2 | 50% |' in out
    assert '0.750 +- 0.100 [0.65, 0.85] 1/2, 2/2' in out
    assert plot.stat().st_size > 0


def test_variant_names_the_remedies():
    tool = load_tool(TOOL)
    run = dict(RUNS[1], remedies=['usage_balance_weight=0.01'],
               cfg_options={'model.decode_head.gumbel_noise_stride': 4})
    assert tool.variant(run) == \
        'gumbel (gumbel_noise_stride=4, usage_balance_weight=0.01)'
    assert tool.variant(RUNS[1]) == 'gumbel'


def test_variant_names_the_tau_schedule_length():
    tool = load_tool(TOOL)
    tau = 'TauScheduleHook(start=1.0, end=0.3, mode=linear)'
    short = dict(RUNS[1], remedies=[tau], iters=500)
    long = dict(RUNS[1], remedies=[tau], iters=1000)
    assert tool.variant(short) == \
        'gumbel (TauScheduleHook(start=1.0, end=0.3, mode=linear, ' \
        'over 500 iterations))'
    assert tool.variant(short) != tool.variant(long)
    # an explicit end_iter is named by the hook's own arguments
    fixed = dict(RUNS[1], remedies=[tau[:-1] + ', end_iter=300)'])
    assert 'over' not in tool.variant(fixed)


def test_variant_names_a_remedy_once_whether_set_in_config_or_cli():
    tool = load_tool(TOOL)
    stride = {'model.decode_head.gumbel_noise_stride': 4}
    by_cli = dict(RUNS[1], cfg_options=dict(stride, **{
        'optim_wrapper.paramwise_cfg.custom_keys.decode_head.lr_mult': 10.0
    }))
    by_config = dict(RUNS[1], cfg_options=stride, remedies=['lr_mult=10.0'])
    both = dict(by_cli, remedies=['lr_mult=10.0'])
    name = 'gumbel (gumbel_noise_stride=4, lr_mult=10.0)'
    assert tool.variant(by_cli) == tool.variant(by_config) == \
        tool.variant(both) == name


def test_other_training_data_is_its_own_variant_with_its_baselines(
        tmp_path, capsys):
    tool = load_tool(TOOL)
    data = ['num_kinds=2', "textures=('stripe',)"]
    simple = dict(RUNS[1], data=data, cfg_options={
        'train_dataloader.dataset.num_kinds': 2,
        'val_dataloader.dataset.num_kinds': 2
    }, baselines=dict(all_foreground_fg_iou=0.33, colour_kmeans_fg_iou=0.64,
                      colour_kmeans_miou=0.48))
    assert tool.variant(simple) == \
        "gumbel, data: num_kinds=2, textures=('stripe',)"
    assert tool.variant(dict(RUNS[1], data=[])) == 'gumbel'
    flips_off = dict(simple, cfg_options=dict(
        simple['cfg_options'],
        **{'train_dataloader.dataset.pipeline.0.prob': 0.0}))
    assert tool.variant(flips_off) == \
        "gumbel (pipeline.0.prob=0.0), data: num_kinds=2, textures=('stripe',)"
    paths = []
    for i, run in enumerate([RUNS[1], simple]):
        path = tmp_path / f'run{i}.json'
        path.write_text(json.dumps(run))
        paths.append(str(path))
    tool.main(paths)
    out = capsys.readouterr().out
    assert 'Baselines on the same images: all-foreground 0.200' in out
    assert ("Baselines on the same images (data: num_kinds=2, "
            "textures=('stripe',)): all-foreground 0.330") in out
    assert 'colour k-means 0.640' in out


def test_variant_names_the_recorded_block_size_like_a_cfg_option():
    tool = load_tool(TOOL)
    tau = 'TauScheduleHook(start=1.0, end=0.3, mode=linear)'
    by_cli = dict(RUNS[1], iters=500, remedies=[tau, 'mask_noise=independent'],
                  cfg_options={'model.decode_head.gumbel_noise_stride': 4,
                               'model.train_cfg.mask_noise': 'independent'})
    by_config = dict(RUNS[1], iters=500, gumbel_noise_stride=4,
                     remedies=[tau, 'mask_noise=independent'])
    assert tool.variant(by_cli) == tool.variant(by_config) == (
        'gumbel (gumbel_noise_stride=4, TauScheduleHook(start=1.0, end=0.3, '
        'mode=linear, over 500 iterations), mask_noise=independent)')
    # soft masks have no block size, whatever the record says
    soft = dict(RUNS[1], mask_sampling='soft', gumbel_noise_stride=1)
    assert tool.variant(soft) == 'soft'


def _write(folder, *runs):
    """Run files ``run0.json, run1.json, ...``; returns their paths."""
    paths = []
    for i, run in enumerate(runs):
        path = folder / f'run{i}.json'
        path.write_text(json.dumps(run))
        paths.append(str(path))
    return paths


def test_a_seed_run_twice_counts_once_the_longer_run(tmp_path, capsys):
    tool = load_tool(TOOL)
    short = _run(1, [(500, 0.10, [0.5, 0.5])])
    paths = _write(tmp_path, RUNS[0], RUNS[1], short)
    tool.main(paths)
    out = capsys.readouterr().out
    assert f'note: left out {paths[2]}' in out
    # seed 1's 500 point is the longer run's 0.55, not the short run's 0.1
    assert '| gumbel | 2 | 50% | 0.400 +- 0.150' in out
    # in either order
    tool.main([paths[2], paths[0], paths[1]])
    assert '| gumbel | 2 | 50% | 0.400 +- 0.150' in capsys.readouterr().out
    # the same seed run twice for the same length is ambiguous
    with pytest.raises(ValueError, match='same variant and seed'):
        tool.main([paths[0], paths[0]])


def test_runs_without_the_metric_are_named_and_left_out(tmp_path, capsys):
    tool = load_tool(TOOL)
    k3 = _run(3, [(500, 0.4, [0.3, 0.3, 0.4])])
    k3['num_regions'] = 3
    for pt in k3['curve']:  # a K = 3 run records no polarity-rule fg_iou
        del pt['ema']['fg_iou'], pt['raw']['fg_iou']
    paths = _write(tmp_path, RUNS[0], RUNS[1], k3)
    tool.main(paths)
    out = capsys.readouterr().out
    assert f'left out {paths[2]}: it records no fg_iou (K = 3)' in out
    assert '| gumbel | 3 |' not in out
    tool.main(paths + ['--metric', 'miou'])
    assert '| gumbel | 3 | 0.400 (0.400) |' in capsys.readouterr().out
