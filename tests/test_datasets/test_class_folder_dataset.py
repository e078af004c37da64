# Copyright (c) mmfactdiff contributors. All rights reserved.
import numpy as np
import pytest
from mmseg.registry import DATASETS
from PIL import Image


def _tree(root, layout):
    for rel in layout:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(path)


def _build(root, **kwargs):
    return DATASETS.build(
        dict(
            type='ClassFolderDataset',
            data_root=str(root),
            data_prefix=dict(img_path='train'),
            **kwargs))


def test_labels_follow_sorted_class_folders(tmp_path):
    _tree(tmp_path, [
        'train/n02/a.png', 'train/n01/b.png', 'train/n01/c.png',
        'train/n03/sub/d.png'
    ])
    dataset = _build(
        tmp_path,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='PackSegInputs', meta_keys=('img_path', 'class_label'))
        ])
    assert dataset.class_names == ['n01', 'n02', 'n03']
    labels = {
        dataset.get_data_info(i)['img_path'].split('train/')[1]:
        dataset.get_data_info(i)['class_label']
        for i in range(len(dataset))
    }
    assert labels == {
        'n01/b.png': 0,
        'n01/c.png': 0,
        'n02/a.png': 1,
        'n03/sub/d.png': 2
    }
    assert dataset[0]['data_samples'].metainfo['class_label'] == 0


def test_given_class_names_fix_the_order(tmp_path):
    _tree(tmp_path, ['train/0001/a.png', 'train/0000/b.png'])
    dataset = _build(tmp_path, class_names=['0001', '0000'], label_key='y')
    assert [dataset.get_data_info(i)['y'] for i in range(2)] == [1, 0]
    with pytest.raises(ValueError, match="'0000'.*not in class_names"):
        _build(tmp_path, class_names=['0001'])


def test_image_outside_a_class_folder_is_an_error(tmp_path):
    _tree(tmp_path, ['train/n01/a.png', 'train/loose.png'])
    with pytest.raises(ValueError, match='loose.png.*class folder'):
        _build(tmp_path)
