# Copyright (c) mmfactdiff contributors. All rights reserved.
"""tools/analysis_tools/mask_noise_leak.py: it tells masks that follow the
noise draw from masks that follow the image, and reads run files and
checkpoints."""
import json
import os.path as osp
from types import SimpleNamespace

import pytest
import torch

from conftest import load_tool
from mmfactdiff.models.schedulers import DDPMNoiseScheduler
from tiny_configs import tiny_config

TOOL = 'tools/analysis_tools/mask_noise_leak.py'


def _fake_model(head):
    """Encoder = identity on x_t; ``head(x_t)`` gives the logits."""
    return SimpleNamespace(
        scheduler=DDPMNoiseScheduler(),
        extract_feat=lambda x_t, t: x_t,
        decode_head=head)


def _images():
    torch.manual_seed(0)
    img = torch.zeros(8, 3, 16, 16)
    img[:, :, 4:12, 4:12] = 1.  # a square on every image
    return img


def test_masks_made_of_the_noise_are_caught():
    tool = load_tool(TOOL)

    # region 1 wherever the noised red channel is bright: the noise decides
    # near the threshold
    def leaky(x_t):
        return torch.stack([torch.zeros_like(x_t[:, 0]), x_t[:, 0] - .5], 1)

    out = tool.measure(_fake_model(leaky), _images(), t=300, draws=3, seed=0)
    # the logit change between draws is a multiple of the red noise
    assert out['noise_r'][1] > 0.99 and out['noise_r'][0] > 0.99
    assert out['draw_agreement'] < 0.95


def test_masks_of_the_clean_image_are_not_flagged():
    tool = load_tool(TOOL)
    clean = _images()

    # logits from the image, not the noised input
    def honest(x_t):
        return torch.stack([torch.zeros_like(clean[:, 0]), clean[:, 0] - .5],
                           1)

    out = tool.measure(_fake_model(honest), clean, t=300, draws=3, seed=0)
    assert out['draw_agreement'] == 1.0
    assert out['noise_r'] == [0.0, 0.0]
    assert out['chance_r'] == round((3 / (2 * 8 * 16 * 16))**0.5, 4)


def test_reads_a_run_file_and_a_checkpoint(tmp_path):
    cfg = tiny_config(str(tmp_path), max_iters=2)
    cfg_file = osp.join(tmp_path, 'cfg.py')
    cfg.dump(cfg_file)
    run_file = osp.join(tmp_path, 'run.json')
    load_tool('tools/analysis_tools/emergence_curve.py').main([
        cfg_file, '--iters', '2', '--eval-every', '2', '--num-eval', '2',
        '--out', run_file
    ])
    tool = load_tool(TOOL)
    out_file = osp.join(tmp_path, 'leak.json')
    a = tool.main(['--from-run', run_file, '--num-images', '3',
                   '--draws', '2', '--out', out_file])
    with open(out_file) as f:
        assert json.load(f) == a
    assert a['num_images'] == 3 and len(a['noise_r']) == 2
    assert 0 <= a['draw_agreement'] <= 1
    b = tool.main([cfg_file, osp.join(tmp_path, 'run_ema.pth'),
                   '--num-images', '3', '--draws', '2'])
    assert b['noise_r'] == a['noise_r']


def test_bad_inputs_name_the_problem(tmp_path):
    tool = load_tool(TOOL)
    with pytest.raises(SystemExit):
        tool.parse_args(['cfg.py'])  # no checkpoint
    with pytest.raises(SystemExit):
        tool.parse_args(['cfg.py', 'w.pth', '--draws', '1'])
    run_file = osp.join(tmp_path, 'run.json')
    with open(run_file, 'w') as f:
        json.dump(dict(config='cfg.py', cfg_options=None, plain=False), f)
    with pytest.raises(FileNotFoundError, match='run_ema.pth'):
        tool.main(['--from-run', run_file])
    with open(run_file, 'w') as f:
        json.dump(dict(config='cfg.py', cfg_options=None, plain=True), f)
    with pytest.raises(ValueError, match='plain'):
        tool.main(['--from-run', run_file])
