# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/emergence_study/tools/run_comparison.py and make_tables.py's
compare table: methods scored in one run with their cost, as rows."""
import json
import os.path as osp

import pytest
from conftest import REPO_ROOT, load_tool

TOOLS = 'projects/emergence_study/tools/'
MAIN = 'configs/factdiff/factdiff_unet-probe-k2_1xb32-1k_synthetic-32x32.py'
SMALL = [
    'test_dataloader.dataset.num_samples=8', 'test_dataloader.batch_size=4'
]


def _manifest(tmp_path, runs):
    path = tmp_path / 'manifest.json'
    path.write_text(json.dumps(dict(dataset='toy', runs=runs)))
    return str(path)


def test_runs_are_recorded_with_their_cost_and_rendered(tmp_path):
    tool = load_tool(TOOLS + 'run_comparison.py')
    out = tmp_path / 'toy.json'
    manifest = _manifest(tmp_path, [
        dict(
            method='cmp: colour k-means',
            baseline='colour k-means',
            config=MAIN,
            cfg_options=SMALL,
            pretrained='none',
            protocol='per-image polarity'),
        dict(
            method='cmp: missing',
            config=MAIN,
            checkpoint=str(tmp_path / 'nowhere.pth'),
            protocol='-'),
    ])
    # the missing checkpoint is reported, the other run still recorded
    assert tool.main(
        [manifest, '--out',
         str(out), '--work-dir',
         str(tmp_path / 'runs')]) == 1
    rows = json.loads(out.read_text())
    metrics = {r['metric']: r for r in rows}
    assert {'fg_IoU', 'sec_per_img', 'peak_rss_GB'} <= set(metrics)
    assert {r['method'] for r in rows} == {'cmp: colour k-means'}
    assert all(r['protocol'] == 'per-image polarity' for r in rows)
    assert metrics['sec_per_img']['value'] > 0
    assert 0.1 < metrics['peak_rss_GB']['value'] < 64

    tables = load_tool(TOOLS + 'make_tables.py')
    page = tmp_path / 'page.md'
    spec = dict(
        dataset='toy',
        table='compare',
        rows=[dict(method='cmp: colour k-means', metric='fg_IoU')])
    page.write_text(f'<!-- results {json.dumps(spec)} -->\n'
                    '<!-- /results -->\n')
    tables.main([str(page), '--results', str(tmp_path)])
    text = page.read_text()
    line = next(t for t in text.splitlines()
                if t.startswith('| cmp: colour k-means'))
    cells = [c.strip() for c in line.strip('|').split('|')]
    assert cells[1:5] == ['0', 'none', 'per-image polarity', 'fg_IoU']
    assert float(cells[5]) == pytest.approx(
        metrics['fg_IoU']['value'], abs=0.05)
    assert cells[6] == '1'
    assert 'Measured on: CPU' in text


def test_manifest_errors_name_the_run(tmp_path):
    tool = load_tool(TOOLS + 'run_comparison.py')
    bad = _manifest(tmp_path, [dict(method='x', config=MAIN, seeds=3)])
    with pytest.raises(ValueError, match="run 0 has unknown fields.*seeds"):
        tool.main([bad, '--out', str(tmp_path / 'o.json')])
    bad = _manifest(tmp_path, [dict(method='x')])
    with pytest.raises(ValueError, match="run 0 has no 'config'"):
        tool.main([bad, '--out', str(tmp_path / 'o.json')])


def test_compare_table_needs_comparison_rows(tmp_path):
    tables = load_tool(TOOLS + 'make_tables.py')
    (tmp_path / 'toy.json').write_text(
        json.dumps([
            dict(
                dataset='toy',
                method='m',
                config='c',
                seed=0,
                metric='fg_IoU',
                value=50.0,
                iterations=1,
                labels_used=0,
                device='CPU',
                run='r')
        ]))
    page = tmp_path / 'page.md'
    spec = dict(
        dataset='toy',
        table='compare',
        rows=[dict(method='m', metric='fg_IoU')])
    page.write_text(f'<!-- results {json.dumps(spec)} -->\n'
                    '<!-- /results -->\n')
    # a validation row of training is not a comparison run
    with pytest.raises(ValueError, match='run run_comparison.py'):
        tables.main([str(page), '--results', str(tmp_path)])
    assert osp.isfile(osp.join(REPO_ROOT, TOOLS, 'run_comparison.py'))
