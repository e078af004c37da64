# Copyright (c) mmfactdiff contributors. All rights reserved.
import json

import pytest
from conftest import load_tool

from benchmark_fixtures import save_random_checkpoint
from tiny_configs import dump, tiny_config

TOOL = 'tools/analysis_tools/noise_level_study.py'


def test_noise_level_study_writes_table_json_and_plot(tmp_path):
    cfg = tiny_config(str(tmp_path / 'work'))
    config = dump(cfg, str(tmp_path / 'cfg.py'))
    ckpt = save_random_checkpoint(cfg, str(tmp_path / 'random.pth'))
    out = tmp_path / 'study'
    rows = load_tool(TOOL).main([
        config, ckpt, '--t', '0', '60', '--out-dir',
        str(out), '--cfg-options', 'test_dataloader.dataset.num_samples=4'
    ])
    assert [row['t'] for row in rows] == [0, 60]
    # the config's metrics (synthetic: foreground + Hungarian) at each t
    for row in rows:
        assert {'IoU', 'mIoU'} <= set(row['metrics'])
    # a different noise level gives a different read-out
    assert rows[0]['metrics'] != rows[1]['metrics']
    saved = json.load(open(out / 'noise_level_study.json'))
    assert saved['results'] == rows and saved['checkpoint'] == ckpt
    table = (out / 'noise_level_study.md').read_text()
    assert '| t |' in table and '\n| 0 |' in table and '\n| 60 |' in table
    assert (out / 'noise_level_study.png').stat().st_size > 1000


def test_noise_level_study_rejects_negative_t(tmp_path):
    cfg = tiny_config(str(tmp_path / 'work'))
    config = dump(cfg, str(tmp_path / 'cfg.py'))
    with pytest.raises(ValueError, match='--t'):
        load_tool(TOOL).main(
            [config, 'x.pth', '--t', '-1', '--out-dir',
             str(tmp_path)])
