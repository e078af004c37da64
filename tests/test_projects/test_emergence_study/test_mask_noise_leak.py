# Copyright (c) mmfactdiff contributors. All rights reserved.
"""projects/emergence_study/tools/mask_noise_leak.py: it tells masks that
follow the noise draw from masks that follow the image, and reads
checkpoints of tools/train.py."""
import json
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from conftest import load_tool

from mmfactdiff.models.schedulers import DDPMNoiseScheduler
from tiny_configs import tiny_config

TOOL = 'projects/emergence_study/tools/mask_noise_leak.py'


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


def test_reads_a_checkpoint(tmp_path):
    from mmengine.runner import Runner
    cfg = tiny_config(str(tmp_path), max_iters=2)
    cfg_file = osp.join(tmp_path, 'cfg.py')
    cfg.dump(cfg_file)
    Runner.from_cfg(cfg).train()
    tool = load_tool(TOOL)
    out_file = osp.join(tmp_path, 'leak.json')
    ckpt = osp.join(tmp_path, 'iter_2.pth')
    a = tool.main([
        cfg_file, ckpt, '--num-images', '3', '--draws', '2', '--weights',
        'raw', '--out', out_file
    ])
    with open(out_file) as f:
        assert json.load(f) == a
    assert a['num_images'] == 3 and len(a['noise_r']) == 2
    assert 0 <= a['draw_agreement'] <= 1
    b = tool.main([
        cfg_file, ckpt, '--num-images', '3', '--draws', '2', '--weights', 'raw'
    ])
    assert b['noise_r'] == a['noise_r']  # deterministic


def test_bad_inputs_name_the_problem():
    tool = load_tool(TOOL)
    with pytest.raises(SystemExit):
        tool.parse_args(['cfg.py'])  # no checkpoint
    with pytest.raises(SystemExit):
        tool.parse_args(['cfg.py', 'w.pth', '--draws', '1'])
