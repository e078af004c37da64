# Copyright (c) mmfactdiff contributors. All rights reserved.
"""Each converter on a tiny fixture in its benchmark's raw format, and the
dataset config of that benchmark on the converted output."""
import json
import os.path as osp

import numpy as np
import pytest
from conftest import REPO_ROOT, load_tool
from mmengine.config import Config
from mmseg.registry import DATASETS
from PIL import Image


def _tool(name):
    return load_tool(f'tools/dataset_converters/{name}.py')


def _save(path, array, **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, **kwargs).save(path)


def _mask(path):
    return np.array(Image.open(path))


def _config_split(config, split, data_root):
    """Build ``split`` of a dataset base config on ``data_root``."""
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'datasets', config))
    dataset = cfg[f'{split}_dataloader'].dataset
    dataset.data_root = data_root
    return DATASETS.build(dataset)


def _flowers_raw(root):
    from scipy.io import savemat
    for i in range(1, 5):
        img = np.full((40, 50, 3), 30 * i, np.uint8)
        seg = np.zeros((40, 50, 3), np.uint8)
        seg[..., 2] = 254  # the blue background of segmim
        seg[10:30, 15:35] = (200, 40, 90)  # the flower
        _save(root / 'jpg' / f'image_{i:05d}.jpg', img)
        _save(root / 'segmim' / f'segmim_{i:05d}.jpg', seg)
    savemat(
        str(root / 'setid.mat'),
        dict(
            trnid=np.array([[1]]),
            valid=np.array([[2]]),
            tstid=np.array([[3, 4]])))


def test_flowers102_uses_the_iem_split_and_blue_background(tmp_path):
    _flowers_raw(tmp_path / 'raw')
    out = tmp_path / 'flowers102'
    _tool('flowers102').main([str(tmp_path / 'raw'), '-o', str(out)])
    # IEM / ReDO: train = tstid, val = valid, test = trnid
    for split, ids in (('train', [3, 4]), ('val', [2]), ('test', [1])):
        for i in ids:
            assert (out / 'images' / split / f'image_{i:05d}.jpg').is_file()
    mask = _mask(out / 'masks' / 'test' / 'image_00001.png')
    assert mask.shape == (40, 50) and mask.dtype == np.uint8
    assert set(np.unique(mask)) == {0, 1}
    assert mask[12:28, 17:33].all() and not mask[:8].any()
    # original bytes are kept when not resizing
    assert (out / 'images' / 'test' / 'image_00001.jpg').read_bytes() == \
        (tmp_path / 'raw' / 'jpg' / 'image_00001.jpg').read_bytes()

    # --size: resize the short side, centre crop, GT nearest
    out64 = tmp_path / 'flowers64'
    _tool('flowers102').main(
        [str(tmp_path / 'raw'), '-o',
         str(out64), '--size', '16'])
    mask = _mask(out64 / 'masks' / 'test' / 'image_00001.png')
    assert mask.shape == (16, 16) and set(np.unique(mask)) == {0, 1}
    assert Image.open(out64 / 'images' / 'train' / 'image_00003.jpg').size \
        == (16, 16)

    test = _config_split('flowers102-64x64.py', 'test', str(out64))
    sample = test[0]
    assert len(test) == 1
    assert sample['inputs'].shape == (3, 64, 64)
    assert sample['data_samples'].gt_sem_seg.data.shape == (1, 16, 16)
    assert test.metainfo['classes'] == ('background', 'flower')
    train = _config_split('flowers102-64x64.py', 'train', str(out64))
    assert len(train) == 2 and 'gt_sem_seg' not in train[0]['data_samples']


def test_flowers102_missing_split_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='setid.mat'):
        _tool('flowers102').main([str(tmp_path), '-o', str(tmp_path / 'o')])


def _cub_raw(root):
    names = [
        '001.Albatross/Albatross_0001.jpg', '001.Albatross/Albatross_0002.jpg',
        '002.Auklet/Auklet_0003.jpg'
    ]
    (root / 'images.txt').parent.mkdir(parents=True, exist_ok=True)
    (root / 'images.txt').write_text(''.join(f'{i} {n}\n'
                                             for i, n in enumerate(names, 1)))
    for n in names:
        _save(root / 'images' / n, np.full((20, 24, 3), 90, np.uint8))
        seg = np.zeros((20, 24), np.uint8)
        seg[5:15, 6:18] = 255  # bird
        seg[0:3, 0:3] = 100  # uncertain annotator vote, < 0.5: background
        _save(root / 'segmentations' / n.replace('.jpg', '.png'), seg)
    split = root / 'train_val_test_split.txt'
    split.write_text('1 0\n2 1\n3 2\n')
    return split


def test_cub200_uses_the_redo_split_and_half_threshold(tmp_path):
    _cub_raw(tmp_path / 'CUB_200_2011')
    out = tmp_path / 'cub200'
    _tool('cub200').main([str(tmp_path / 'CUB_200_2011'), '-o', str(out)])
    assert (out / 'images' / 'train' / 'Albatross_0001.jpg').is_file()
    assert (out / 'images' / 'val' / 'Albatross_0002.jpg').is_file()
    assert (out / 'images' / 'test' / 'Auklet_0003.jpg').is_file()
    mask = _mask(out / 'masks' / 'test' / 'Auklet_0003.png')
    expected = np.zeros((20, 24), np.uint8)
    expected[5:15, 6:18] = 1
    np.testing.assert_array_equal(mask, expected)

    test = _config_split('cub200-64x64.py', 'test', str(out))
    assert len(test) == 1 and test.metainfo['classes'][1] == 'bird'
    assert test[0]['inputs'].shape == (3, 64, 64)


def test_cub200_split_file_errors_name_the_file(tmp_path):
    root = tmp_path / 'CUB_200_2011'
    split = _cub_raw(root)
    split.write_text('1 0\n2 7\n3 2\n')
    with pytest.raises(ValueError, match=r'train_val_test_split.txt:2'):
        _tool('cub200').main([str(root), '-o', str(tmp_path / 'o')])
    split.unlink()
    with pytest.raises(FileNotFoundError, match='--split-file'):
        _tool('cub200').main([str(root), '-o', str(tmp_path / 'o')])


def _celeba_raw(root):
    for i in range(2):
        _save(root / 'CelebA-HQ-img' / f'{i}.jpg',
              np.full((32, 32, 3), 100, np.uint8))
        anno = root / 'CelebAMask-HQ-mask-anno' / '0'
        for part, rows in (('skin', slice(4, 20)), ('hair', slice(0, 6)),
                           ('cloth', slice(24, 32))):
            m = np.zeros((16, 16), np.uint8)
            m[rows.start // 2:rows.stop // 2] = 255
            _save(anno / f'{i:05d}_{part}.png', m)
    (root / 'CelebA-HQ-to-CelebA-mapping.txt'
     ).write_text('idx orig_idx orig_file\n0 10 000011.jpg\n1 20 000021.jpg\n')
    (root /
     'list_eval_partition.txt').write_text('000011.jpg 0\n000021.jpg 2\n')


def test_celebamask_hq_merges_parts_and_splits(tmp_path):
    raw = tmp_path / 'CelebAMask-HQ'
    _celeba_raw(raw)
    out = tmp_path / 'celeba'
    _tool('celebamask_hq').main([
        str(raw), '-o',
        str(out), '--size', '16', '--partition-file',
        str(raw / 'list_eval_partition.txt')
    ])
    assert (out / 'images' / 'train' / '0.jpg').is_file()
    assert (out / 'images' / 'test' / '1.jpg').is_file()
    assert json.load(open(out /
                          'classes.json')) == ['background', 'face', 'hair']
    mask = _mask(out / 'masks' / 'test' / '1.png')
    # rows 0-2 hair (painted after skin), 3-9 face, 10-11 bg, 12+ cloth=bg
    assert (mask[0:3] == 2).all() and (mask[3:10] == 1).all()
    assert (mask[10:] == 0).all()

    test = _config_split('celebamask_hq-64x64.py', 'test', str(out))
    assert len(test) == 1 and test[0]['inputs'].shape == (3, 64, 64)

    # all 19 official classes, and a user merge file
    _tool('celebamask_hq').main(
        [str(raw), '-o',
         str(tmp_path / 'parts'), '--merge', 'parts'])
    mask = _mask(tmp_path / 'parts' / 'masks' / 'test' / '0.png')
    assert mask.shape == (16, 16)  # no partition file: all to test
    assert set(np.unique(mask)) == {0, 1, 13, 18}  # bg, skin, hair, cloth
    merge = tmp_path / 'merge.json'
    merge.write_text(json.dumps({'person': ['skin', 'hair', 'cloth']}))
    _tool('celebamask_hq').main(
        [str(raw), '-o',
         str(tmp_path / 'fg'), '--merge',
         str(merge)])
    mask = _mask(tmp_path / 'fg' / 'masks' / 'test' / '0.png')
    assert set(np.unique(mask)) == {0, 1}
    merge.write_text(json.dumps({'x': ['tail']}))
    with pytest.raises(ValueError, match="unknown part 'tail'"):
        _tool('celebamask_hq').main(
            [str(raw), '-o',
             str(tmp_path / 'x'), '--merge',
             str(merge)])


def test_imagenet64_unpacks_batches_into_class_folders(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    data = images.transpose(0, 3, 1, 2).reshape(3, -1)  # planar R, G, B
    np.savez(
        tmp_path / 'train_data_batch_1.npz', data=data, labels=[1, 1000, 1])
    np.savez(tmp_path / 'val_data.npz', data=data[:1], labels=[5])
    out = tmp_path / 'imagenet64'
    _tool('imagenet64').main(
        [str(tmp_path), '-o', str(out), '--img-size', '8'])
    first = out / 'train' / '0000' / 'train_data_batch_1_000000.png'
    np.testing.assert_array_equal(np.array(Image.open(first)), images[0])
    assert (out / 'train' / '0999' / 'train_data_batch_1_000001.png').is_file()
    assert (out / 'val' / '0004' / 'val_data_000000.png').is_file()

    train = _config_split('imagenet-64x64.py', 'train', str(out))
    assert train.class_names == ['0000', '0999']
    sample = train[0]
    assert sample['inputs'].shape == (3, 64, 64)
    assert sample['data_samples'].metainfo['class_label'] == 0
    # sorted folders give the index when all 1000 exist; here the second
    # folder is class 1 of 2: pass class_names to pin the full order
    assert train.get_data_info(2)['class_label'] == 1
