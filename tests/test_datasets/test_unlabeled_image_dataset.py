# Copyright (c) mmfactdiff contributors. All rights reserved.
import os.path as osp
import uuid

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from mmseg.registry import DATASETS
from mmseg.utils import register_all_modules
from PIL import Image

from mmfactdiff.datasets import UnlabeledImageDataset

register_all_modules(init_default_scope=True)

GOOD = ['a.png', 'b.JPG', 'sub/c.jpeg', 'sub/deeper/d.bmp']


def _save(path, size=(12, 10), seed=0, mode='RGB'):
    rng = np.random.default_rng(seed)
    if mode == 'RGB':
        arr = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    else:
        arr = rng.integers(0, 2, (size[1], size[0]), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = {'.jpg': 'JPEG', '.jpeg': 'JPEG', '.png': 'PNG', '.bmp': 'BMP'}
    Image.fromarray(arr, mode).save(path, fmt[path.suffix.lower()])


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / 'images'
    for i, name in enumerate(GOOD):
        _save(root / name, seed=i)
    (root / 'notes.txt').write_text('not an image')
    # a corrupt file with an image suffix
    (root / 'sub' / 'bad.png').write_bytes(np.random.default_rng(1).bytes(300))
    return root


def _rel(ds, root):
    return [
        osp.relpath(ds.get_data_info(i)['img_path'], str(root))
        for i in range(len(ds))
    ]


def test_registered():
    assert DATASETS.get('UnlabeledImageDataset') is UnlabeledImageDataset


def test_scan_is_recursive_sorted_and_case_insensitive(folder):
    ds = UnlabeledImageDataset(data_prefix=dict(img_path=str(folder)))
    assert _rel(ds, folder) == sorted(GOOD + ['sub/bad.png'])
    info = ds.get_data_info(0)
    assert 'seg_map_path' not in info
    assert info['seg_fields'] == []


def test_single_suffix_and_data_root(folder):
    ds = UnlabeledImageDataset(
        data_root=str(folder.parent),
        data_prefix=dict(img_path='images'),
        img_suffix='.PNG')
    assert _rel(ds, folder) == ['a.png', 'sub/bad.png']


def test_check_files_none_keeps_corrupt(folder):
    ds = UnlabeledImageDataset(
        data_prefix=dict(img_path=str(folder)), check_files='none')
    assert len(ds) == 5


def test_check_files_warn_drops_and_logs_by_name(folder, tmp_path):
    log_file = tmp_path / 'warn.log'
    MMLogger.get_instance(
        f'test_unlabeled_{uuid.uuid4().hex}', log_file=str(log_file))
    ds = UnlabeledImageDataset(
        data_prefix=dict(img_path=str(folder)), check_files='warn')
    assert _rel(ds, folder) == sorted(GOOD)
    log = log_file.read_text()
    assert str(folder / 'sub' / 'bad.png') in log
    assert 'a.png' not in log


def test_check_files_error_names_file(folder):
    with pytest.raises(ValueError, match='bad.png') as err:
        UnlabeledImageDataset(
            data_prefix=dict(img_path=str(folder)), check_files='error')
    assert 'a.png' not in str(err.value)


def test_check_files_invalid_mode(folder):
    with pytest.raises(ValueError, match='check_files'):
        UnlabeledImageDataset(
            data_prefix=dict(img_path=str(folder)), check_files='yes')


def test_all_files_corrupt_is_an_error(tmp_path):
    (tmp_path / 'x.png').write_bytes(b'\x00' * 64)
    with pytest.raises(ValueError, match='x.png'):
        UnlabeledImageDataset(
            data_prefix=dict(img_path=str(tmp_path)), check_files='warn')


def test_empty_folder_names_folder_and_suffixes(tmp_path):
    empty = tmp_path / 'empty_dir'
    empty.mkdir()
    (empty / 'readme.txt').write_text('no images here')
    with pytest.raises(FileNotFoundError) as err:
        UnlabeledImageDataset(data_prefix=dict(img_path=str(empty)))
    msg = str(err.value)
    assert 'empty_dir' in msg and '.jpg' in msg and '.webp' in msg


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere'):
        UnlabeledImageDataset(
            data_prefix=dict(img_path=str(tmp_path / 'nowhere')))


def test_invalid_suffix():
    with pytest.raises(ValueError, match='img_suffix'):
        UnlabeledImageDataset(data_prefix=dict(img_path='.'), img_suffix=())


def _masks(tmp_path, names):
    mask_root = tmp_path / 'masks'
    for i, name in enumerate(names):
        stem = name.rsplit('.', 1)[0]
        _save(mask_root / (stem + '.png'), seed=i, mode='L')
    return mask_root


def test_labelled_pairs_masks_by_name(folder, tmp_path):
    mask_root = _masks(tmp_path, GOOD)
    ds = UnlabeledImageDataset(
        data_prefix=dict(img_path=str(folder), seg_map_path=str(mask_root)),
        check_files='warn')
    assert len(ds) == len(GOOD)
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        stem = osp.splitext(osp.relpath(info['img_path'], str(folder)))[0]
        assert info['seg_map_path'] == osp.join(str(mask_root), stem + '.png')


def test_labelled_missing_mask_names_image(folder, tmp_path):
    mask_root = _masks(tmp_path, [n for n in GOOD if n != 'sub/c.jpeg'])
    with pytest.raises(FileNotFoundError, match='c.jpeg'):
        UnlabeledImageDataset(
            data_prefix=dict(
                img_path=str(folder), seg_map_path=str(mask_root)),
            check_files='warn')


def test_none_or_empty_seg_map_path_means_unlabeled(folder):
    for seg in (None, ''):
        ds = UnlabeledImageDataset(
            data_root=str(folder.parent),
            data_prefix=dict(img_path='images', seg_map_path=seg))
        assert 'seg_map_path' not in ds.get_data_info(0)


def test_ann_file_selects_in_order(folder, tmp_path):
    ann = tmp_path / 'split.txt'
    ann.write_text('sub/c\n\nb.JPG\na\n')
    ds = UnlabeledImageDataset(
        data_prefix=dict(img_path=str(folder)), ann_file=str(ann))
    assert _rel(ds, folder) == ['sub/c.jpeg', 'b.JPG', 'a.png']


def test_ann_file_unknown_name(folder, tmp_path):
    ann = tmp_path / 'split.txt'
    ann.write_text('a\nghost\n')
    with pytest.raises(FileNotFoundError, match='ghost'):
        UnlabeledImageDataset(
            data_prefix=dict(img_path=str(folder)), ann_file=str(ann))


def test_unlabeled_through_real_pipeline(folder):
    ds = DATASETS.build(
        dict(
            type='UnlabeledImageDataset',
            data_prefix=dict(img_path=str(folder)),
            check_files='warn',
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='RandomFlip', prob=0.5),
                dict(type='PackSegInputs')
            ]))
    for i in range(len(ds)):
        out = ds[i]
        assert isinstance(out['inputs'], torch.Tensor)
        assert out['inputs'].dtype == torch.uint8
        assert out['inputs'].shape == (3, 10, 12)
        assert 'gt_sem_seg' not in out['data_samples']
    # pixels arrive intact (BGR from mmcv.imread, flipped or not)
    out = ds[0]
    rgb = out['inputs'].numpy().transpose(1, 2, 0)[..., ::-1]
    if out['data_samples'].flip:
        rgb = rgb[:, ::-1]
    np.testing.assert_array_equal(rgb,
                                  np.asarray(Image.open(folder / 'a.png')))


def test_labelled_through_real_pipeline(folder, tmp_path):
    mask_root = _masks(tmp_path, GOOD)
    ds = UnlabeledImageDataset(
        data_prefix=dict(img_path=str(folder), seg_map_path=str(mask_root)),
        check_files='warn',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')
        ])
    out = ds[0]
    gt = out['data_samples'].gt_sem_seg.data
    assert gt.shape == (1, 10, 12)
    expected = np.asarray(Image.open(mask_root / 'a.png'))
    np.testing.assert_array_equal(gt[0].numpy(), expected)
