# Copyright (c) mmfactdiff contributors. All rights reserved.
import glob
import os.path as osp

import numpy as np
import pytest
from conftest import REPO_ROOT, load_tool
from mmengine.runner import Runner
from PIL import Image

from mmfactdiff.utils import load_checkpoint_file
from tiny_configs import dump, tiny_config


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    work = tmp_path_factory.mktemp('train')
    cfg = tiny_config(str(work), max_iters=2)
    Runner.from_cfg(cfg).train()
    ckpt = osp.join(str(work), 'iter_2.pth')
    assert osp.isfile(ckpt)
    return dump(cfg, osp.join(str(work), 'cfg.py')), ckpt


def test_sample_tool_writes_grids_and_arrays(trained, tmp_path):
    cfg, ckpt = trained
    sample = load_tool('tools/sample.py')
    out = str(tmp_path / 'samples')
    sample.main([
        cfg, ckpt, '--out-dir', out, '--num-samples', '3', '--scheduler',
        'ddim', '--num-steps', '3', '--batch-size', '2', '--seed', '1'
    ])
    arrays = np.load(osp.join(out, 'samples.npz'))
    assert arrays['images'].shape == (3, 32, 32, 3)
    assert arrays['images'].dtype == np.uint8
    assert arrays['masks'].shape == (3, 2, 32, 32)
    np.testing.assert_allclose(arrays['masks'].sum(1), 1, atol=1e-5)
    assert len(glob.glob(osp.join(out, 'samples', '*_mask.png'))) == 3
    grid = Image.open(osp.join(out, 'samples_grid.png'))
    assert grid.width > 32 * 2 * 3  # three tiles of image + mask
    # the same seed gives the same samples
    out2 = str(tmp_path / 'again')
    sample.main([
        cfg, ckpt, '--out-dir', out2, '--num-samples', '3', '--scheduler',
        'ddim', '--num-steps', '3', '--batch-size', '2', '--seed', '1'
    ])
    np.testing.assert_array_equal(
        arrays['images'],
        np.load(osp.join(out2, 'samples.npz'))['images'])


def test_sample_tool_rejects_labels_for_unconditional_model(trained, tmp_path):
    cfg, ckpt = trained
    sample = load_tool('tools/sample.py')
    with pytest.raises(ValueError, match='unconditional'):
        sample.main([
            cfg, ckpt, '--out-dir',
            str(tmp_path), '--labels', '1', '--num-steps', '2'
        ])


@pytest.mark.parametrize('option,value,reason', [
    ('--num-samples', '0', 'must be >= 1'),
    ('--batch-size', '-2', 'must be >= 1'),
    ('--grid-cols', 'four', 'not an integer'),
    ('--num-steps', '0', 'must be >= 1'),
    ('--eta', 'nan', 'finite and >= 0'),
])
def test_sample_tool_bad_options_name_the_option(trained, tmp_path, capsys,
                                                 option, value, reason):
    cfg, ckpt = trained
    sample = load_tool('tools/sample.py')
    with pytest.raises(SystemExit) as info:
        sample.main([cfg, ckpt, '--out-dir', str(tmp_path), option, value])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert option in err and reason in err
    assert not list(tmp_path.iterdir())  # nothing written


def test_sample_tool_refuses_more_steps_than_the_model_has(trained, tmp_path):
    cfg, ckpt = trained
    sample = load_tool('tools/sample.py')
    with pytest.raises(ValueError, match='--num-steps must be at most'):
        sample.main(
            [cfg, ckpt, '--out-dir',
             str(tmp_path), '--num-steps', '100000'])


def test_segmentation_report_writes_a_grid(trained, tmp_path):
    cfg, ckpt = trained
    report = load_tool('tools/analysis_tools/segmentation_report.py')
    out = str(tmp_path / 'grid.png')
    report.main([cfg, ckpt, '--out', out, '--num-images', '4', '--scale', '1'])
    grid = Image.open(out)
    # 4 tiles, each image | regions | ground truth
    assert grid.width >= 4 * 3 * 32


def test_bad_checkpoint_names_the_file(trained, tmp_path):
    cfg, _ = trained
    bad = tmp_path / 'broken.pth'
    bad.write_bytes(b'not a checkpoint')
    from mmfactdiff.apis import init_factdiff_model
    with pytest.raises(RuntimeError, match='broken.pth'):
        init_factdiff_model(cfg, str(bad))


def test_test_tool_metrics_and_show_dir_on_rendered_data(trained, tmp_path):
    """tools/test.py with --show-dir and --out on the file-free dataset."""
    import subprocess
    import sys
    cfg, ckpt = trained
    work = tmp_path / 'test'
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'test.py'), cfg, ckpt, '--work-dir',
        str(work), '--show-dir',
        str(work / 'vis'), '--out',
        str(work / 'pred')
    ],
                          capture_output=True,
                          text=True,
                          cwd=REPO_ROOT,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'IEM/ReDO per-image polarity rule' in proc.stdout + proc.stderr
    overlays = glob.glob(str(work / 'vis' / '**' / '*.png'), recursive=True)
    assert len(overlays) == 8  # every test image
    preds = glob.glob(str(work / 'pred' / '*.png'))
    assert len(preds) == 8
    ids = np.array(Image.open(preds[0]))
    assert ids.shape == (32, 32) and ids.max() < 2


def test_load_weights_picks_ema_and_raw_copies(trained):
    """EMAHook saves the EMA weights as state_dict and the raw ones as
    ema_state_dict: 'ema' and 'raw' must load the right ones."""
    import torch

    from mmfactdiff.apis import init_factdiff_model
    cfg, ckpt = trained
    data = load_checkpoint_file(ckpt, map_location='cpu')
    key = 'decode_head.conv_seg.weight'
    ema = init_factdiff_model(cfg, ckpt, weights='ema')
    raw = init_factdiff_model(cfg, ckpt, weights='raw')
    assert torch.equal(ema.state_dict()[key], data['state_dict'][key])
    assert torch.equal(raw.state_dict()[key],
                       data['ema_state_dict']['module.' + key])
    assert not torch.equal(ema.state_dict()[key], raw.state_dict()[key])


def test_strict_loading_refuses_a_checkpoint_of_another_model(
        trained, tmp_path):
    import torch

    from mmfactdiff.apis import init_factdiff_model
    cfg, ckpt = trained
    data = load_checkpoint_file(ckpt, map_location='cpu')
    data['state_dict']['decode_head.extra.weight'] = torch.zeros(1)
    other = str(tmp_path / 'other.pth')
    torch.save(data, other)
    init_factdiff_model(cfg, other)  # the default warns and goes on
    with pytest.raises(RuntimeError, match='other.pth'):
        init_factdiff_model(cfg, other, strict=True)
