# Copyright (c) mmfactdiff contributors. All rights reserved.
"""The probe config rebuilds the reference probe's network and trains with
the standard runner; its runs become result rows and tables."""
import glob
import json
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT, load_tool
from mmengine.config import Config
from mmseg.registry import MODELS

from tiny_configs import train_briefly

PROBE = osp.join(
    REPO_ROOT, 'projects/emergence_study/configs/'
    'factdiff_probe-unet-k2_1xb32-1k_simple-shapes-32x32.py')
TOOLS = 'projects/emergence_study/tools/'
SELECTED = 'factorized (main job: low-t oversampling, checkpoint by region gain)'  # noqa: E501
EMA_MAIN = 'configs/factdiff/factdiff_unet-probe-k2-ema_1xb32-1500_synthetic-32x32.py'  # noqa: E501
MAIN = 'configs/factdiff/factdiff_unet-probe-k2-ema-lowt-best_1xb32-1500_synthetic-32x32.py'  # noqa: E501


def test_probe_config_has_the_probes_parameter_count():
    model = MODELS.build(Config.fromfile(PROBE).model)
    # the reference script prints "params 1.279941 M"
    assert sum(p.numel() for p in model.parameters()) == 1_279_941
    assert model.decode_head.mask_sampling == 'gumbel'
    assert model.decoder.mask_resize == 'bilinear'


@pytest.fixture(scope='module')
def probe_run(tmp_path_factory):
    """A tiny run of the probe config: 2 iterations of batch 4, validated
    on 8 held-out images, through the standard runner."""
    return train_briefly(
        PROBE, str(tmp_path_factory.mktemp('probe')), {
            'train_dataloader.batch_size': 4,
            'val_dataloader.dataset.num_samples': 8,
            'val_dataloader.batch_size': 8,
            'train_cfg.max_iters': 2,
            'train_cfg.val_interval': 2,
            'default_hooks.logger.interval': 1,
            'default_hooks.checkpoint.interval': 2,
            'randomness.seed': 3,
        })


def test_tiny_probe_config_trains_and_validates(probe_run):
    assert osp.isfile(osp.join(probe_run, 'iter_2.pth'))
    rows = load_tool(TOOLS + 'record_results.py')
    out = osp.join(probe_run, 'rows.json')
    rows.main([
        probe_run, '--dataset', 'simple_shapes', '--method', 'probe', '--out',
        out
    ])
    with open(out) as f:
        got = json.load(f)
    metrics = {r['metric'] for r in got}
    assert {'fg_IoU', 'hungarian_mIoU'} <= metrics
    row = next(r for r in got if r['metric'] == 'fg_IoU')
    assert row['iterations'] == 2 and row['seed'] == 3
    assert row['labels_used'] == 0 and row['weights'] == 'raw'
    assert 0 <= row['value'] <= 100 and row['sec_per_iter'] > 0
    assert row['config'] == osp.relpath(PROBE, REPO_ROOT)
    # what the run changed in its config, seed and work dir left out
    assert row['cfg_options']['train_cfg.max_iters'] == 2
    assert row['cfg_options']['train_dataloader.batch_size'] == 4
    assert not any(
        k.startswith(('randomness', 'work_dir')) for k in row['cfg_options'])
    # recording again replaces the rows instead of adding copies
    rows.main([
        probe_run, '--dataset', 'simple_shapes', '--method', 'probe', '--out',
        out
    ])
    with open(out) as f:
        assert len(json.load(f)) == len(got)
    # a logged key recorded under another name (a supervised mIoU)
    renamed = osp.join(probe_run, 'renamed.json')
    rows.main([
        probe_run, '--dataset', 'simple_shapes', '--method', 'probe', '--out',
        renamed, '--metric-name', 'mIoU=mIoU'
    ])
    with open(renamed) as f:
        names = {r['metric'] for r in json.load(f)}
    assert 'mIoU' in names and 'hungarian_mIoU' not in names
    with pytest.raises(ValueError, match='KEY=NAME'):
        rows.main([
            probe_run, '--dataset', 'simple_shapes', '--method', 'probe',
            '--out', renamed, '--metric-name', 'mIoU'
        ])


def test_smallest_region_share():
    signal = load_tool(TOOLS + 'collapse_signal.py')
    probs = torch.zeros(2, 2, 4, 4)
    probs[0, 0] = 1.  # image 0: every pixel in region 0
    probs[1, 0, :1] = 1.  # image 1: one row of four in region 0
    probs[1, 1, 1:] = 1.
    assert signal.smallest_region_share(probs).tolist() == [0., 0.25]


def test_collapse_signal_rows_pair_with_the_runs_scores(probe_run, tmp_path):
    out = str(tmp_path / 'rows.json')
    load_tool(TOOLS + 'record_results.py').main([
        probe_run, '--dataset', 'simple_shapes', '--method', 'probe', '--out',
        out
    ])
    signal = load_tool(TOOLS + 'collapse_signal.py')
    new = signal.main(
        [probe_run, '--config', PROBE, '--out', out, '--num-images', '4'])
    assert [r['iterations'] for r in new] == [2]
    row = new[0]
    assert row['metric'] == 'min_region_share' and row['method'] == 'probe'
    assert row['seed'] == 3 and 0 <= row['value'] <= 50
    with pytest.raises(ValueError, match='no fg_IoU rows'):
        signal.main([str(tmp_path), '--config', PROBE, '--out', out])


def test_mask_gain_rows_per_noise_level(probe_run, tmp_path):
    out = str(tmp_path / 'rows.json')
    load_tool(TOOLS + 'record_results.py').main([
        probe_run, '--dataset', 'simple_shapes', '--method', 'probe', '--out',
        out
    ])
    tool = load_tool(TOOLS + 'mask_gain_by_t.py')
    new = tool.main([
        probe_run, '--config', PROBE, '--out', out, '--num-images', '4', '--t',
        '10', '500'
    ])
    assert sorted(r['t'] for r in new) == [10, 500]
    assert {(r['metric'], r['method'], r['seed'], r['iterations'])
            for r in new} == {('mask_gain', 'probe', 3, 2)}
    with open(out) as f:
        kept = [r for r in json.load(f) if r['metric'] == 'mask_gain']
    # rows of two noise levels are two rows, not one replacing the other
    assert len(kept) == 2


def test_mask_gain_is_zero_for_one_region_and_signed_otherwise():
    import torch
    tool = load_tool(TOOLS + 'mask_gain_by_t.py')
    model = MODELS.build(Config.fromfile(PROBE).model)
    x0 = torch.rand(2, 3, 32, 32) * 2 - 1
    # a mask generator that puts every pixel in region 0: no gain
    head = model.decode_head.conv_seg
    torch.nn.init.zeros_(head.weight)
    head.bias.data = torch.tensor([5., -5.])
    assert all(g == 0 for g in tool.mask_gain(model, x0, [10, 900]).values())
    # regions that follow the features: the decoder's output changes
    head.bias.data.zero_()
    torch.nn.init.normal_(head.weight, std=1.)
    gain = tool.mask_gain(model, x0, [10])
    assert gain[10] != 0
    assert model.training  # the model's mode is restored


def test_signal_table_bins_checkpoints(tmp_path):
    rows = [
        dict(
            method='m',
            config='c',
            cfg_options=None,
            seed=0,
            metric=m,
            value=v,
            iterations=it,
            run='r',
            weights='raw',
            device='cpu')
        for m, v, it in (('fg_IoU', 26.0, 250), ('min_region_share', 0.0, 250),
                         ('fg_IoU', 70.0, 500), ('min_region_share', 25.0,
                                                 500), ('fg_IoU', 80.0, 750),
                         ('min_region_share', 30.0, 750), ('min_region_share',
                                                           30.0, 1000))
    ]
    (tmp_path / 'd.json').write_text(json.dumps(rows))
    spec = dict(
        dataset='d',
        table='signal',
        metric='fg_IoU',
        signal='min_region_share',
        bins=[0, 10, 50],
        rows=[dict(method='m')])
    page = tmp_path / 'page.md'
    page.write_text(
        f'<!-- results {json.dumps(spec)} -->\n<!-- /results -->\n')
    tool = load_tool(TOOLS + 'make_tables.py')
    assert tool.main([str(page), '--results', str(tmp_path)]) == 0
    text = page.read_text()
    assert '| [0, 10) | 1 | 26.0 | 26.0 | 26.0 |' in text
    assert '| [10, 50) | 2 | 70.0 | 75.0 | 80.0 |' in text


def test_curve_table_by_noise_level(tmp_path):
    rows = [
        dict(
            method='m',
            config='c',
            cfg_options=None,
            seed=0,
            metric='mask_gain',
            t=t,
            value=v,
            iterations=it,
            weights='raw',
            device='cpu')
        for t, v, it in ((10, 5.0, 250), (900, -2.0, 250), (10, 9.0, 500))
    ]
    (tmp_path / 'd.json').write_text(json.dumps(rows))
    spec = dict(
        dataset='d',
        table='curve',
        metric='mask_gain',
        column='t',
        values=[10, 900],
        rows=[dict(method='m', iterations=250)])
    page = tmp_path / 'page.md'
    page.write_text(
        f'<!-- results {json.dumps(spec)} -->\n<!-- /results -->\n')
    tool = load_tool(TOOLS + 'make_tables.py')
    assert tool.main([str(page), '--results', str(tmp_path)]) == 0
    text = page.read_text()
    assert '| method | seed | t = 10 | t = 900 |' in text
    assert '| m | 0 | 5.0 | -2.0 |' in text


def test_tables_are_generated_from_rows(tmp_path):
    rows = [
        dict(
            dataset='d',
            method='m',
            config='c',
            cfg_options=None,
            seed=s,
            metric='fg_IoU',
            value=v,
            iterations=it,
            labels_used=0,
            weights='raw',
            device='cpu')
        for s, v, it in ((0, 80.0, 500), (1, 70.0, 500), (0, 60.0, 250))
    ] + [
        dict(
            dataset='d',
            method='k',
            config='c',
            cfg_options=None,
            seed=None,
            metric='fg_IoU',
            value=75.0,
            iterations=0,
            labels_used=0,
            weights='none',
            device='cpu')
    ]
    (tmp_path / 'd.json').write_text(json.dumps(rows))
    spec = {
        'dataset': 'd',
        'table': 'seeds',
        'metric': 'fg_IoU',
        'rows': [{
            'method': 'k'
        }, {
            'method': 'm',
            'iterations': 500
        }],
        'verdict': {
            'baseline': 'k'
        }
    }
    page = tmp_path / 'page.md'
    page.write_text(f'x\n<!-- results {json.dumps(spec)} -->\nold\n'
                    '<!-- /results -->\ny\n')
    tool = load_tool(TOOLS + 'make_tables.py')
    args = [str(page), '--results', str(tmp_path)]
    assert tool.main(args + ['--check']) == 1
    assert tool.main(args) == 0
    text = page.read_text()
    assert '| m | 500 | 80.0 | 70.0 | 75.0 | 7.1 | 1/2 | mixed |' in text
    assert '| k | 0 |  |  | 75.0 |  |  |  |' in text
    assert 'old' not in text and text.startswith('x\n')
    assert tool.main(args + ['--check']) == 0
    # two rows for one seed: the spec must say which
    spec['rows'][1].pop('iterations')
    page.write_text(f'<!-- results {json.dumps(spec)} -->\n'
                    '<!-- /results -->\n')
    with pytest.raises(ValueError, match='two rows for seed 0'):
        tool.main(args)
    # a list selects any of its values: one setting under two labels
    rows.append(dict(rows[0], method='m2', seed=2, value=90.0))
    (tmp_path / 'd.json').write_text(json.dumps(rows))
    spec['rows'] = [{
        'method': ['m', 'm2'],
        'iterations': 500,
        'label': 'both'
    }]
    spec.pop('verdict')
    page.write_text(f'<!-- results {json.dumps(spec)} -->\n'
                    '<!-- /results -->\n')
    assert tool.main(args) == 0
    assert '| both | 500 | 80.0 | 70.0 | 90.0 | 80.0 | 10.0 |' in (
        page.read_text())
    # label-using rows beside label-free ones: the labels column
    rows.append(dict(rows[0], method='sup', labels_used=20))
    (tmp_path / 'd.json').write_text(json.dumps(rows))
    spec['labels'] = True
    spec['rows'] = [{'method': 'k'}, {'method': 'sup', 'iterations': 500}]
    page.write_text(f'<!-- results {json.dumps(spec)} -->\n'
                    '<!-- /results -->\n')
    assert tool.main(args) == 0
    text = page.read_text()
    assert '| method | labelled images | iterations | seed 0 |' in text
    assert '| sup | 20 | 500 | 80.0 |' in text
    assert '| k | 0 | 0 |' in text


LOADERS = ('train_dataloader', 'val_dataloader')


def _assert_same_data(main: Config, study: Config, loaders=LOADERS) -> None:
    from mmfactdiff.registry import DATASETS
    for loader in loaders:
        a, b = main[loader], study[loader]
        assert a.batch_size == b.batch_size
        # the main configs spell out two defaults the study configs leave
        da, db = (DATASETS.build(x.dataset) for x in (a, b))
        assert len(da) == len(db)
        assert (da.render(3)[0] == db.render(3)[0]).all()
        assert (da.num_kinds, da.label_mode) == (db.num_kinds, db.label_mode)


def _assert_trains_alike(main: Config, study: Config, loaders=LOADERS) -> None:
    """Same model, optimisation, schedule, hooks (sample grids aside) and
    data."""
    for key in ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg',
                'randomness'):
        assert main[key] == study[key], key
    assert [
        h for h in main.custom_hooks if h.type != 'SampleVisualizationHook'
    ] == study.custom_hooks
    _assert_same_data(main, study, loaders)


def test_main_job_config_is_the_probe_config_on_the_builtin_data():
    """The README's main job and the study's probe config on the built-in
    data are one setting (the study's rows of that config are the main
    job's evidence): same model, optimisation, schedule and data."""
    main = Config.fromfile(
        osp.join(
            REPO_ROOT, 'configs/factdiff/'
            'factdiff_unet-probe-k2_1xb32-1k_synthetic-32x32.py'))
    study = Config.fromfile(
        osp.join(
            REPO_ROOT, 'projects/emergence_study/configs/'
            'factdiff_probe-unet-k2_1xb32-1k_synthetic-shapes-32x32.py'))
    _assert_trains_alike(main, study)


def test_ema_config_is_the_measured_ema_setting():
    """The earlier main job (during 2026-12-07) is the study's EMA remedy
    trained for 1,500 iterations under bf16 autocast, the setting whose
    five seeds are the rows "remedy: EMA read-out (momentum 0.01), bf16,
    1,500 iterations" (those runs gave the autocast through --amp
    --amp-dtype bfloat16)."""
    main = Config.fromfile(osp.join(REPO_ROOT, EMA_MAIN))
    study = Config.fromfile(
        osp.join(
            REPO_ROOT, 'projects/emergence_study/configs/remedies/'
            'factdiff_probe-unet-k2-ema0.01_1xb32-1500_'
            'synthetic-shapes-32x32.py'))
    study.merge_from_dict({'optim_wrapper.type': 'AutocastOptimWrapper'})
    # the runs' --amp-dtype bfloat16 is AutocastOptimWrapper's default
    assert main.optim_wrapper.get('dtype', 'bfloat16') == 'bfloat16'
    _assert_trains_alike(main, study)
    assert main.train_cfg.max_iters == 1500
    assert any(h.type == 'EMAHook' for h in main.custom_hooks)


def test_main_job_config_is_the_measured_low_t_setting_with_selection():
    """The README's main job is the study's low-noise oversampling remedy
    (EMA read-out, bf16, 1,500 iterations) whose runs, checkpointed every
    50 iterations, are the main job's rows, plus the label-free selection
    (region gain on a separate split, best checkpoint kept), which
    changes validation and checkpointing but not training."""
    main = Config.fromfile(osp.join(REPO_ROOT, MAIN))
    study = Config.fromfile(
        osp.join(
            REPO_ROOT, 'projects/emergence_study/configs/remedies/'
            'factdiff_probe-unet-k2-ema0.01-low-t-oversampling_1xb32-1500_'
            'synthetic-shapes-32x32.py'))
    study.merge_from_dict({
        'optim_wrapper.type': 'AutocastOptimWrapper',
        # what the runs were given on the command line
        'train_cfg.val_interval': 50,
    })
    assert main.optim_wrapper.get('dtype', 'bfloat16') == 'bfloat16'
    # the model differs only in the read-out's extra output
    assert main.model.test_cfg.pop('region_gain') is True
    _assert_trains_alike(main, study, loaders=('train_dataloader', ))
    # selection on a split of its own, never the test split
    assert main.val_dataloader.dataset.seed == 2
    assert main.test_dataloader.dataset.seed == 1
    assert main.train_dataloader.dataset.seed == 0
    assert main.default_hooks.checkpoint.save_best == 'region_gain'
    # validation reads no labels
    assert [m['type'] for m in main.val_evaluator] == ['RegionGainMetric']
    # and it is what the README's main job runs
    with open(osp.join(REPO_ROOT, 'tools/run_main.sh')) as f:
        assert MAIN in f.read()


@pytest.mark.parametrize(
    'config,dataset,iterations,methods,seeds', [
        ('configs/factdiff/factdiff_unet-probe-k2_1xb32-1k_synthetic-32x32.py',
         'synthetic_shapes', 1000,
         ('factorized (probe config)', 'factorized (main job)'), 5),
        (EMA_MAIN, 'synthetic_shapes', 1500,
         ('remedy: EMA read-out (momentum 0.01), bf16, 1,500 iterations', ),
         5),
        (MAIN, 'synthetic_shapes', 1500, (SELECTED, ), 5),
        ('configs/factdiff/factdiff_unet-probe-k2-ema-lowt-best_1xb32-1500_'
         'weizmann-horse-32x32.py', 'weizmann_horse', None,
         (SELECTED[:-1] + ', 32x32)', ), 3),
    ],
    ids=['no-EMA main job', 'EMA main job', 'main job', 'main job, horses'])
def test_metafile_reports_the_main_jobs_rows(config, dataset, iterations,
                                             methods, seeds):
    """A main job's metafile number is the mean of its result rows (one
    per seed: at the end of its schedule, or at the checkpoint its
    selection kept when ``iterations`` is None; in the test output's
    percent)."""
    import statistics

    import yaml
    with open(osp.join(REPO_ROOT, 'configs/factdiff/metafile.yaml')) as f:
        models = {m['Name']: m for m in yaml.safe_load(f)['Models']}
    main = models[osp.splitext(osp.basename(config))[0]]
    assert main['Config'] == config
    reported = main['Results'][0]['Metrics']['fg IoU']
    with open(osp.join(REPO_ROOT, f'docs/data/results/{dataset}.json')) as f:
        rows = json.load(f)
    values = {
        r['seed']: r['value']
        for r in rows if r['metric'] == 'fg_IoU' and r['method'] in methods
        and iterations in (None, r['iterations'])
    }
    assert sorted(values) == list(range(seeds))
    assert reported == pytest.approx(
        statistics.mean(values.values()), abs=0.005)


def test_docs_tables_are_generated_from_the_current_rows():
    """Every generated table of the docs matches the result rows (rerun
    make_tables.py after recording new rows)."""
    tool = load_tool(TOOLS + 'make_tables.py')
    candidates = [osp.join(REPO_ROOT, 'README.md')] + [
        p for pattern in ('docs/*.md', 'configs/**/README.md',
                          'projects/*/README.md')
        for p in glob.glob(osp.join(REPO_ROOT, pattern), recursive=True)
    ]
    pages = [p for p in candidates if '<!-- results {' in open(p).read()]
    # the pages known to carry tables are among them
    names = {osp.relpath(p, REPO_ROOT) for p in pages}
    assert {
        'README.md', 'docs/emergence.md', 'docs/comparison.md',
        'configs/factdiff/README.md', 'projects/ddpm_seg/README.md'
    } <= names
    assert tool.main(pages + ['--check']) == 0
