# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/ddpm_seg/tools/measure_memory.py on a tiny ADM setting: the
published config's model shrunk by --cfg-options, 2 images at 32x32."""
import json

import pytest
from conftest import load_tool

TOOL = 'projects/ddpm_seg/tools/measure_memory.py'
TINY_ADM_OPTIONS = [
    'model.backbone.unet.image_size=32',
    'model.backbone.unet.model_channels=32',
    'model.backbone.unet.channel_mult=[1,2]',
    'model.backbone.unet.num_res_blocks=1',
    'model.backbone.unet.attention_resolutions=[16]',
    'model.backbone.unet.num_head_channels=16',
    'model.backbone.blocks=[1,3]',
    'model.backbone.steps=[50]',
    'model.decode_head.num_members=2',
]


def test_measure_memory_writes_rows(tmp_path, capsys):
    tool = load_tool(TOOL)
    out = tmp_path / 'new' / 'folder' / 'memory.json'
    rows = tool.main([
        '--num-images', '3', '--batch-size', '2', '--img-size', '32', '--out',
        str(out), '--cfg-options', *TINY_ADM_OPTIONS
    ])
    written = json.loads(out.read_text())
    assert written == rows
    assert [r['metric'] for r in rows] == ['peak_rss_GB', 'seconds']
    for row in rows:
        assert row['dataset'] == 'random 32x32'
        assert row['method'] == 'DDPM-seg (streamed features)'
        assert row['config'] == \
            'projects/ddpm_seg/configs/_base_/models/ddpm-seg_adm-256.py'
        assert row['num_images'] == 3 and row['labels_used'] == 3
        assert row['iterations'] == 2  # batches of 2 and 1
        assert row['seed'] == 0 and row['cfg_options'] == TINY_ADM_OPTIONS
        assert row['device'].startswith('cpu: ')
        assert row['value'] > 0
        # blocks 1 (64 wide) and 3 (32) of the tiny ADM, one step
        assert row['feature_channels'] == 96
    printed = capsys.readouterr().out
    assert '210 GB' in printed and 'ddpm-segmentation' in printed
    # a second run of the same setting replaces its rows
    tool.main([
        '--num-images', '3', '--batch-size', '2', '--img-size', '32', '--out',
        str(out), '--cfg-options', *TINY_ADM_OPTIONS
    ])
    assert len(json.loads(out.read_text())) == 2


def test_output_folder_is_made_before_the_work(tmp_path):
    tool = load_tool(TOOL)
    out = tmp_path / 'made' / 'first.json'
    with pytest.raises(ValueError, match='blocks'):
        tool.main([
            '--num-images', '1', '--img-size', '32', '--out',
            str(out), '--cfg-options', *TINY_ADM_OPTIONS,
            'model.backbone.blocks=[9]'
        ])
    assert out.parent.is_dir() and not out.exists()
    with pytest.raises(SystemExit):
        tool.parse_args(['--num-images', '0', '--out', str(out)])
