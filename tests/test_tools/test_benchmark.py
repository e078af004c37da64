# Copyright (c) mmfactdiff contributors. All rights reserved.
import json
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT, load_tool
from mmseg.registry import MODELS

from mmfactdiff.utils import timeit
from tiny_configs import dump, tiny_config
from tiny_models import leave_zero_init, tiny_segmentor

benchmark = load_tool('tools/analysis_tools/benchmark.py')
bench_models = load_tool('tools/analysis_tools/benchmark_models.py')
report = load_tool('tools/analysis_tools/benchmark_report.py')


def _result(fast=0.4,
            full=1.0,
            train_f=2.5,
            train_p=1.0,
            folded=(1., .9),
            seg=3.0,
            act=(100, 40),
            data=50.):
    """A benchmark result with chosen numbers (one config)."""
    t = lambda s: dict(median_s=s)  # noqa: E731
    return dict(configs=[
        dict(
            name='m',
            paths=dict(
                flops_per_image=dict(full=100., fast=40., plain=40.),
                times=dict(
                    full=t(full),
                    fast=t(fast),
                    plain=t(0.4),
                    train_factorized=t(train_f),
                    train_plain=t(train_p))),
            folded=[dict(k=k, ratio=r) for k, r in zip((1, 3), folded)],
            segmentation=dict(speedup=seg, flops=dict(fast=1., ddpmseg=3.)),
            memory=dict(
                activation_reduction=(None if act is None else 1 -
                                      act[1] / act[0])),
            data=dict(loader_imgs_per_s=data, train_imgs_per_s=1., ratio=data))
    ])


def _verdicts(**kwargs):
    return [t['met'] for t in report.evaluate_targets(_result(**kwargs))]


def test_targets_flip_with_the_numbers():
    # FLOP ratios: fast/full 0.4, full/plain 2.5
    assert _verdicts(seg=12.) == [True] * 7
    assert _verdicts(fast=0.45, seg=12.)[0] is False  # > 1.1 * 0.4
    assert _verdicts(fast=0.43, seg=12.)[0] is True
    assert _verdicts(train_f=2.8, seg=12.)[1] is False  # > 1.1 * 2.5
    assert _verdicts(folded=(1.1, .9), seg=12.)[2:4] == [False, True]
    assert _verdicts(folded=(1., 1.), seg=12.)[2:4] == [True, False]
    assert _verdicts(seg=9.)[4] is False
    assert _verdicts(act=(100, 70), seg=12.)[5] is False
    assert _verdicts(act=None, seg=12.)[5] is None
    assert _verdicts(data=0.5, seg=12.)[6] is False


def test_looped_regions_equal_folded_decoding():
    model = leave_zero_init(MODELS.build(tiny_segmentor(num_regions=3)))
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        feats = model.extract_feat(x, torch.tensor([3, 40]))
        masks = torch.randn(2, 4, 16, 16).softmax(1)
        folded = model.decoder.forward_regions(feats, masks)
        looped = bench_models.looped_regions(model.decoder, feats, masks)
    assert looped.shape == (2, 4, 3, 16, 16)
    torch.testing.assert_close(folded, looped, atol=1e-5, rtol=1e-4)


def test_timeit_counts_warmup_and_repeats():
    calls = []
    out = timeit(lambda: calls.append(1), warmup=2, repeats=3)
    assert len(calls) == 5 and len(out['runs_s']) == 3
    assert out['min_s'] <= out['median_s']


def test_write_markdown_replaces_only_the_marked_section(tmp_path):
    md = tmp_path / 'b.md'
    md.write_text(f'head\n{report.MD_START}\nold\n{report.MD_END}\n'
                  'tail\n')
    report.write_markdown(str(md), 'new\n')
    text = md.read_text()
    assert text.startswith('head\n') and text.endswith('tail\n')
    assert 'new' in text and 'old' not in text
    (tmp_path / 'plain.md').write_text('no markers')
    with pytest.raises(ValueError, match='markers'):
        report.write_markdown(str(tmp_path / 'plain.md'), 'x')


def test_outputs_are_checked_before_anything_is_measured(
        tmp_path, monkeypatch):
    """A bad --md or --out fails at once, not after minutes of measuring;
    a new --md file is created with the markers."""
    cfg = dump(tiny_config(str(tmp_path / 'work')), str(tmp_path / 'tiny.py'))
    monkeypatch.setattr(benchmark, 'torch', None)  # any measuring would fail
    (tmp_path / 'plain.md').write_text('no markers')
    base = ['--quick', '--configs', cfg, '--batch-sizes', '2']
    with pytest.raises(ValueError, match='plain.md exists but has no'):
        benchmark.main(base + ['--md', str(tmp_path / 'plain.md')])
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    with pytest.raises(ValueError, match='--out .*cannot write there'):
        benchmark.main(base + ['--out', str(blocker / 'bench.json')])
    report.write_markdown(str(tmp_path / 'new.md'), 'section\n')
    text = (tmp_path / 'new.md').read_text()
    assert text == f'{report.MD_START}\nsection\n{report.MD_END}\n'


def test_docs_page_has_the_markers():
    with open(osp.join(REPO_ROOT, 'docs/benchmarks.md')) as f:
        text = f.read()
    assert report.MD_START in text and report.MD_END in text


def test_quick_run_writes_every_figure(tmp_path):
    cfg = dump(tiny_config(str(tmp_path / 'work')), str(tmp_path / 'tiny.py'))
    md = tmp_path / 'benchmarks.md'
    md.write_text(f'# page\n{report.MD_START}\nplaceholder\n'
                  f'{report.MD_END}\n')
    out = str(tmp_path / 'bench.json')
    result = benchmark.main([
        '--quick', '--configs', cfg, '--batch-sizes', '2', '--threads', '1',
        '--out', out, '--md',
        str(md)
    ])
    with open(out) as f:
        saved = json.load(f)
    assert saved['command'] == result['command']
    assert '--quick' in saved['command'] and 'benchmark.py' in saved['command']
    (r, ) = saved['configs']
    times = r['paths']['times']
    assert set(times) == {
        'full', 'fast', 'plain', 'train_factorized', 'train_plain'
    }
    assert all(t['median_s'] > 0 for t in times.values())
    assert [f['k'] for f in r['folded']] == [1, 3]
    assert set(r['sampling']) == {'ddpm', 'ddim'}
    assert r['sampling']['ddpm']['steps'] == 4
    assert r['segmentation']['speedup'] > 0
    for key in ('no_cp', 'with_cp'):
        mem = r['memory'][key]
        assert mem['batch'] == 2 and mem['with_cp'] == (key == 'with_cp')
        assert mem['peak_bytes'] is not None
    assert r['data']['loader_imgs_per_s'] > 0
    assert set(r['switches']['rows']) == {
        'baseline', 'channels_last', 'bf16', 'with_cp'
    }
    assert len(saved['targets']) == 7
    text = md.read_text()
    assert 'placeholder' not in text and saved['command'] in text
    assert 'smoke-test sizes' in text
    for t in saved['targets']:
        assert t['target'] in text


def test_default_plan_is_the_two_documented_configs():
    args = benchmark.parse_args([])
    assert args.configs == benchmark.DEFAULT_CONFIGS
    assert args.batch_sizes == [8, 1]
    assert 'compile' not in args.switches
    assert benchmark.parse_args(['--device', 'cuda']).switches[-1] == \
        'compile'
    with pytest.raises(ValueError):
        benchmark.parse_args(['--configs', 'a.py', '--batch-sizes', '1', '2'])
    assert args.folded_k == [1, 2, 3, 4]
