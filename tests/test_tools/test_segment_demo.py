# Copyright (c) mmfactdiff contributors. All rights reserved.
"""tools/demo/segment_demo.py: overlays, palette PNGs and soft masks at the
original image size, deterministic, with working test_cfg overrides."""
import json
import os.path as osp
import subprocess
import sys

import mmcv
import numpy as np
import pytest
import torch
from conftest import REPO_ROOT, load_tool
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

from mmfactdiff.visualization import region_palette
from tiny_configs import MAIN_CONFIG, TINY_OPTIONS
from tiny_models import leave_zero_init

DEMO = osp.join(REPO_ROOT, 'tools', 'demo', 'segment_demo.py')
K = 2
# name -> (file, (h, w)); sub/a.png shares a stem with a.jpg
IMAGES = {
    'a': ('a.jpg', (20, 28)),
    'sub/a': ('sub/a.png', (40, 24)),
    'c': ('c.PNG', (16, 16)),
}


@pytest.fixture(scope='module')
def demo():
    return load_tool(osp.relpath(DEMO, REPO_ROOT))


@pytest.fixture(scope='module')
def assets(tmp_path_factory):
    """Tiny config + checkpoint, and a folder of three images (one in a
    sub-folder) plus a text file the demo must ignore."""
    from mmseg.registry import MODELS

    import mmfactdiff  # noqa: F401
    root = tmp_path_factory.mktemp('demo')
    cfg = Config.fromfile(MAIN_CONFIG)
    cfg.merge_from_dict(TINY_OPTIONS)
    cfg_path = str(root / 'tiny.py')
    cfg.dump(cfg_path)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = leave_zero_init(MODELS.build(cfg.model), std=0.3)
    ckpt = str(root / 'tiny.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    img_dir = root / 'images'
    rng = np.random.default_rng(0)
    for _, (rel, (h, w)) in IMAGES.items():
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        img[:h // 2] //= 4
        mmcv.imwrite(img, str(img_dir / rel))  # creates the folders
    (img_dir / 'notes.txt').write_text('not an image')
    return dict(cfg=cfg_path, ckpt=ckpt, img_dir=str(img_dir))


def _png(path) -> Image.Image:
    """Open and fully read a PNG (no file handle left open)."""
    with Image.open(path) as img:
        img.load()
        return img.copy()


def _run(demo, assets, out_dir, *extra, inp=None):
    argv = [
        assets['cfg'], assets['ckpt'], inp or assets['img_dir'], '--out-dir',
        str(out_dir), '--device', 'cpu', '--save-masks', *extra
    ]
    return demo.main(argv)


def test_demo_writes_overlays_and_region_maps_at_original_size(
        demo, assets, tmp_path):
    assert _run(demo, assets, tmp_path / 'out', '--opacity', '0.7') == 0
    seen = set()
    for name, (_, (h, w)) in IMAGES.items():
        # a.jpg and sub/a.png have different stems (folders are kept)
        regions = _png(tmp_path / 'out' / f'{name}_regions.png')
        overlay = _png(tmp_path / 'out' / f'{name}_overlay.png')
        masks = np.load(tmp_path / 'out' / f'{name}_masks.npy')
        assert regions.mode == 'P' and regions.size == (w, h)
        assert overlay.mode == 'RGB' and overlay.size == (w, h)
        assert masks.shape == (K, h, w)
        ids = np.array(regions)
        assert ids.max() < K
        np.testing.assert_array_equal(ids, masks.argmax(0))
        np.testing.assert_allclose(masks.sum(0), 1, atol=1e-5)
        seen |= set(np.unique(ids).tolist())
        # the palette PNG carries the model's region colours
        assert regions.getpalette()[:3 * K] == \
            region_palette(K).flatten().tolist()
    assert seen == set(range(K))
    assert not list((tmp_path / 'out').glob('notes*'))


def test_demo_is_deterministic_and_overrides_change_the_masks(
        demo, assets, tmp_path):
    img = osp.join(assets['img_dir'], IMAGES['a'][0])

    def masks(tag, *extra):
        assert _run(demo, assets, tmp_path / tag, *extra, inp=img) == 0
        return np.load(tmp_path / tag / 'a_masks.npy')

    base = masks('base', '--t', '5')
    np.testing.assert_array_equal(masks('again', '--t', '5'), base)
    for tag, extra in (('t', ('--t', '60')), ('draws', ('--t', '5',
                                                        '--num-draws', '3')),
                       ('seed', ('--t', '5', '--noise-seed', '1'))):
        assert not np.allclose(masks(tag, *extra), base, atol=1e-4), tag
    # a bigger forward resolution: still the original size out
    assert masks('size', '--t', '5', '--img-size', '48').shape == (K, 20, 28)
    with pytest.raises(ValueError, match='multiple of 2'):
        _run(demo, assets, tmp_path / 'odd', '--img-size', '33', inp=img)


def test_demo_names_region_palette_and_folders(demo, assets, tmp_path):
    assert demo.collect_images(assets['img_dir']) == [
        (osp.join(assets['img_dir'], 'a.jpg'), 'a'),
        (osp.join(assets['img_dir'], 'c.PNG'), 'c'),
        (osp.join(assets['img_dir'], 'sub', 'a.png'), osp.join('sub', 'a')),
    ]
    out = tmp_path / 'named'
    img = osp.join(assets['img_dir'], IMAGES['c'][0])
    assert _run(
        demo,
        assets,
        out,
        '--cfg-options',
        'model.test_cfg.region_palette=[[1,2,3],[4,5,6]]',
        inp=img) == 0
    assert _png(out / 'c_regions.png').getpalette()[:6] == [1, 2, 3, 4, 5, 6]


def test_demo_cli_reports_unreadable_images(assets, tmp_path):
    """Run as a script: bad files are named, skipped, and fail the run."""
    inp = tmp_path / 'in'
    inp.mkdir()
    mmcv.imwrite(np.zeros((12, 10, 3), np.uint8), str(inp / 'good.png'))
    (inp / 'broken.jpg').write_bytes(b'\xff\xd8 truncated')
    out = tmp_path / 'out'
    proc = subprocess.run([
        sys.executable, DEMO, assets['cfg'], assets['ckpt'],
        str(inp), '--out-dir',
        str(out), '--device', 'cpu'
    ],
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert 'broken.jpg' in proc.stderr
    assert _png(out / 'good_regions.png').size == (10, 12)
    assert _png(out / 'good_overlay.png').size == (10, 12)
    assert not list(out.glob('broken*'))


def _write_mode_zoo(folder) -> dict:
    """Files a user's photo folder may hold, with the (h, w) of the ones
    that must be segmented (None: must be reported and skipped)."""
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (18, 22, 3), dtype=np.uint8)
    Image.fromarray(rgb).convert('RGBA').save(folder / 'rgba.png')
    Image.fromarray(rgb).convert('L').save(folder / 'grey.png')
    Image.fromarray(rgb).convert('P').save(folder / 'palette.png')
    Image.fromarray(rgb).convert('CMYK').save(folder / 'cmyk.jpg')
    Image.fromarray(rng.integers(0, 65535, (9, 13),
                                 dtype=np.uint16)).save(folder / 'grey16.png')
    Image.fromarray(np.array([[40000]], np.uint16)).save(folder / 'one16.png')
    Image.fromarray(rgb[:1]).save(folder / 'thin.png')  # 1 x 22
    Image.fromarray(rgb[:, :1]).save(folder / 'tall.png')  # 18 x 1
    (folder / 'empty.png').write_bytes(b'')
    data = (folder / 'rgba.png').read_bytes()
    (folder / 'truncated.png').write_bytes(data[:len(data) // 2])
    (folder / 'text.jpg').write_text('not an image')
    return {
        'rgba': (18, 22),
        'grey': (18, 22),
        'palette': (18, 22),
        'cmyk': (18, 22),
        'grey16': (9, 13),
        'thin': (1, 22),
        'tall': (18, 1),
        'one16': None,
        'empty': None,
        'truncated': None,
        'text': None,
    }


def test_demo_handles_or_names_every_kind_of_file(demo, assets, tmp_path,
                                                  capsys):
    """Modes and odd sizes are converted and segmented at their own size;
    unreadable files and a single pixel are named with a reason, counted,
    and the run goes on (the others' outputs are all written)."""
    inp = tmp_path / 'in'
    inp.mkdir()
    expected = _write_mode_zoo(inp)
    out = tmp_path / 'out'
    assert _run(demo, assets, out, inp=str(inp)) == 1
    err = capsys.readouterr().err
    bad = [n for n, size in expected.items() if size is None]
    assert f'{len(bad)} image(s) failed' in err
    for name, size in expected.items():
        if size is None:
            assert f'{name}.' in err and not list(out.glob(f'{name}_*'))
            continue
        h, w = size
        assert _png(out / f'{name}_regions.png').size == (w, h), name
        assert _png(out / f'{name}_overlay.png').size == (w, h), name
        masks = np.load(out / f'{name}_masks.npy')
        assert masks.shape == (K, h, w) and np.isfinite(masks).all()
    assert 'file is empty' in err and 'single-pixel' in err


@pytest.fixture(scope='module')
def one_image(demo, assets):
    """The demo's per-image path (read, segment, write) with the tiny
    model, as ``main`` sets it up."""
    import argparse

    from mmseg.apis import init_model
    from mmseg.visualization import SegLocalVisualizer
    model = init_model(assets['cfg'], assets['ckpt'], 'cpu')
    model.cfg.test_pipeline = demo.array_pipeline(
        demo.model_img_size(model.cfg, model))
    vis = SegLocalVisualizer(name='demo-property', alpha=0.5)
    vis.set_dataset_meta(model.dataset_meta['classes'],
                         model.dataset_meta['palette'])
    args = argparse.Namespace(with_labels=False, save_masks=True)

    def run(path, out):
        img = demo.read_image(path)
        demo.segment_one(model, vis, img, path, out, args)

    return run


MODES = ('1', 'L', 'LA', 'P', 'RGB', 'RGBA', 'I;16', 'I', 'F', 'CMYK')


@settings(max_examples=40, deadline=None, database=None)
@given(
    h=st.integers(1, 70),
    w=st.integers(1, 70),
    mode=st.sampled_from(MODES),
    fmt=st.sampled_from(('png', 'jpg', 'tiff', 'bmp')),
    seed=st.integers(0, 2**16))
def test_any_size_mode_and_format_is_segmented_or_named(
        one_image, h, w, mode, fmt, seed):
    """Property: an image file of any size, mode and format that PIL can
    write is either segmented at its own size (finite masks summing to one)
    or refused with an error that names the file."""
    import tempfile
    rng = np.random.default_rng(seed)
    rgb = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    if mode == 'I;16':
        img = Image.fromarray(rng.integers(0, 65536, (h, w), dtype=np.uint16))
    elif mode == 'F':
        img = Image.fromarray(rng.random((h, w)).astype(np.float32), 'F')
    else:
        img = rgb.convert(mode)
    with tempfile.TemporaryDirectory() as tmp:
        path = osp.join(tmp, f'img.{fmt}')
        try:
            img.save(path)
        except (OSError, KeyError, ValueError):
            assume(False)  # PIL cannot write this mode in this format
        out = osp.join(tmp, 'out', 'img')
        try:
            one_image(path, out)
        except ValueError as e:
            assert path in str(e) or h * w == 1, str(e)
            return
        regions = _png(out + '_regions.png')
        assert regions.size == (w, h)
        assert _png(out + '_overlay.png').size == (w, h)
        masks = np.load(out + '_masks.npy')
        assert masks.shape == (K, h, w) and np.isfinite(masks).all()
        np.testing.assert_allclose(masks.sum(0), 1., atol=1e-4)


def test_rerun_resumes_where_it_stopped(demo, assets, tmp_path, capsys):
    """Outputs are moved into place whole; a re-run skips the images whose
    outputs all exist and redoes the others; --overwrite redoes all."""
    out = tmp_path / 'out'
    assert _run(demo, assets, out) == 0
    capsys.readouterr()
    assert not list(out.rglob('*.tmp*'))
    regions = out / 'c_regions.png'
    stamp = (out / 'sub' / 'a_overlay.png').stat().st_mtime_ns
    regions.unlink()  # as if the run was killed before this image was done
    assert _run(demo, assets, out) == 0
    text = capsys.readouterr().out
    assert f'segmented 1/{len(IMAGES)} images' in text
    assert f'{len(IMAGES) - 1} already done' in text
    assert regions.is_file()
    assert (out / 'sub' / 'a_overlay.png').stat().st_mtime_ns == stamp
    assert _run(demo, assets, out, '--overwrite') == 0
    assert f'segmented {len(IMAGES)}/{len(IMAGES)}' in capsys.readouterr().out


def test_demo_memory_script_measures_both_runs(tmp_path):
    """The streaming measurement runs (tiny sizes): two fresh processes,
    their peak RSS and the ratio."""
    tool = load_tool('tools/analysis_tools/demo_memory.py')
    cfg = Config.fromfile(MAIN_CONFIG)
    cfg.merge_from_dict(TINY_OPTIONS)
    cfg_path = str(tmp_path / 'tiny.py')
    cfg.dump(cfg_path)
    out = str(tmp_path / 'memory.json')
    result = tool.main(
        ['--config', cfg_path, '--num-images', '10', '--out', out])
    assert [r['images'] for r in result['rows']] == [1, 10]
    assert all(r['peak_rss_bytes'] > 0 for r in result['rows'])
    assert result['peak_rss_ratio'] > 0
    with open(out) as f:
        assert json.load(f)['rows'] == result['rows']
