# Copyright (c) mmfactdiff contributors. All rights reserved.
"""DAVIS2017Dataset on a generated DAVIS tree and on the shared subset."""
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from PIL import Image

from mmfactdiff.datasets.davis2017_dataset import DAVIS2017Dataset
from mmfactdiff.registry import DATASETS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SUBSET = osp.normpath(
    osp.join(REPO_ROOT, '..', 'shared', 'data', 'davis2017_subset'))
META_KEYS = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
             'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label',
             'sequence', 'frame_index', 'num_frames')
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs', meta_keys=META_KEYS),
]
# name -> number of frames; the list order deliberately is not sorted.
SEQUENCES = {'zebra': 3, 'ant': 2}


def _make_tree(root, sequences=SEQUENCES, size=(6, 8)):
    """Official layout; mask of frame t: object 1 in row t, object 2 in the
    last column, void (255) in the top-right pixel."""
    os.makedirs(osp.join(root, 'ImageSets', '2017'))
    with open(osp.join(root, 'ImageSets', '2017', 'val.txt'), 'w') as f:
        f.write('\n'.join(sequences) + '\n')
    for name, count in sequences.items():
        img_dir = osp.join(root, 'JPEGImages', '480p', name)
        ann_dir = osp.join(root, 'Annotations', '480p', name)
        os.makedirs(img_dir)
        os.makedirs(ann_dir)
        for t in range(count):
            img = np.full((*size, 3), 10 * t, np.uint8)
            Image.fromarray(img).save(osp.join(img_dir, f'{t:05d}.jpg'))
            mask = np.zeros(size, np.uint8)
            mask[t] = 1
            mask[:, -1] = 2
            mask[0, -1] = 255
            png = Image.fromarray(mask, mode='P')
            png.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * 759)
            png.save(osp.join(ann_dir, f'{t:05d}.png'))
    return str(root)


def test_frames_grouped_by_sequence(tmp_path):
    root = _make_tree(tmp_path)
    ds = DATASETS.build(dict(type='DAVIS2017Dataset', data_root=root))
    assert isinstance(ds, DAVIS2017Dataset)
    assert len(ds) == 5
    assert ds.sequences == ['zebra', 'ant']  # list order, not sorted
    assert ds.frames_of('zebra') == [0, 1, 2]
    assert ds.frames_of('ant') == [3, 4]
    info = ds.get_data_info(4)
    assert (info['sequence'], info['frame_index'], info['num_frames'],
            info['frame_id']) == ('ant', 1, 2, '00001')
    assert info['img_path'] == osp.join(root, 'JPEGImages', '480p', 'ant',
                                        '00001.jpg')
    assert info['seg_map_path'] == osp.join(root, 'Annotations', '480p', 'ant',
                                            '00001.png')
    assert ds.metainfo['classes'] == ('background', 'object')
    with pytest.raises(KeyError, match='bee'):
        ds.frames_of('bee')


def test_pipeline_keeps_object_ids_and_frame_meta(tmp_path):
    root = _make_tree(tmp_path)
    ds = DAVIS2017Dataset(data_root=root, pipeline=PIPELINE)
    packed = ds[2]  # zebra, frame 2
    sample = packed['data_samples']
    assert (sample.sequence, sample.frame_index, sample.num_frames) == \
        ('zebra', 2, 3)
    gt = sample.gt_sem_seg.data.numpy()[0]
    expected = np.zeros((6, 8), np.uint8)
    expected[2] = 1
    expected[:, -1] = 2
    expected[0, -1] = 255
    np.testing.assert_array_equal(gt, expected)  # ids, void kept as 255
    assert tuple(packed['inputs'].shape) == (3, 6, 8)


def test_split_ann_file_and_sequence_filter(tmp_path):
    root = _make_tree(tmp_path)
    with open(osp.join(root, 'ImageSets', '2017', 'mine.txt'), 'w') as f:
        f.write('ant\n\n')  # blank lines are ignored
    assert DAVIS2017Dataset(data_root=root, split='mine').sequences == ['ant']
    ds = DAVIS2017Dataset(
        data_root=root,
        ann_file=osp.join(root, 'ImageSets', '2017', 'mine.txt'))
    assert len(ds) == 2
    ds = DAVIS2017Dataset(data_root=root, sequences=['ant'])
    assert ds.sequences == ['ant'] and len(ds) == 2
    with pytest.raises(ValueError, match='bee'):
        DAVIS2017Dataset(data_root=root, sequences=['bee'])


def test_indices_and_lazy_init(tmp_path):
    root = _make_tree(tmp_path)
    ds = DAVIS2017Dataset(data_root=root, indices=[1, 3, 4])
    assert ds.sequences == ['zebra', 'ant']
    assert ds.frames_of('zebra') == [0]
    assert ds.get_data_info(0)['frame_index'] == 1  # index in the video
    lazy = DAVIS2017Dataset(data_root=root, lazy_init=True)
    assert lazy.frames_of('ant') == [3, 4]


@pytest.mark.parametrize('missing, what', [
    ('ImageSets/2017/val.txt', 'sequence list'),
    ('Annotations/480p', 'annotation folder'),
    ('JPEGImages/480p/ant', "frames of sequence 'ant'"),
    ('Annotations/480p/zebra/00001.png', 'annotation of zebra/00001'),
])
def test_missing_paths_are_named(tmp_path, missing, what):
    root = _make_tree(tmp_path)
    path = osp.join(root, missing)
    if osp.isdir(path):
        shutil.rmtree(path)
    else:
        os.remove(path)
    with pytest.raises(FileNotFoundError) as err:
        DAVIS2017Dataset(data_root=root)
    assert what in str(err.value) and path in str(err.value)


def test_rejects_id_remapping(tmp_path):
    root = _make_tree(tmp_path)
    with pytest.raises(ValueError, match='reduce_zero_label'):
        DAVIS2017Dataset(data_root=root, reduce_zero_label=True)
    with pytest.raises(ValueError, match='object ids'):
        DAVIS2017Dataset(data_root=root, metainfo=dict(classes=('object', )))


@pytest.mark.skipif(
    not osp.isdir(SUBSET), reason='shared DAVIS subset not available')
def test_shared_subset():
    ds = DAVIS2017Dataset(data_root=SUBSET, pipeline=PIPELINE)
    assert ds.sequences == ['blackswan', 'car-shadow', 'dog', 'libby']
    counts = {s: len(ds.frames_of(s)) for s in ds.sequences}
    assert counts == {
        'blackswan': 50,
        'car-shadow': 40,
        'dog': 60,
        'libby': 49
    }
    assert len(ds) == 199
    packed = ds[ds.frames_of('dog')[-1]]
    sample = packed['data_samples']
    assert (sample.sequence, sample.frame_index) == ('dog', 59)
    assert tuple(packed['inputs'].shape) == (3, 480, 854)
    gt = sample.gt_sem_seg.data.numpy()
    assert set(np.unique(gt)) == {0, 1}  # one object per sequence
