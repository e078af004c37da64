# Copyright (c) mmfactdiff contributors. All rights reserved.
import json

import pytest
from mmseg.registry import DATASETS

from benchmark_fixtures import make_voc
from mmfactdiff.datasets import IMAGENET_TO_VOC

META_KEYS = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
             'class_label', 'target_class')


def _build(voc_root, **kwargs):
    cfg = dict(
        type='VOCClassConditionedDataset',
        data_root=voc_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',
        test_mode=True,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='PackSegInputs', meta_keys=META_KEYS)
        ])
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def test_one_sample_per_image_and_object_class(tmp_path):
    voc = make_voc(str(tmp_path))
    dataset = _build(voc)
    # cat | dog, person | (background only: dropped) | aeroplane
    assert len(dataset) == 4
    pairs = [(info['img_path'][-15:-4], info['target_class'])
             for info in (dataset.get_data_info(i) for i in range(4))]
    assert pairs == [('2007_000033', 8), ('2007_000042', 12),
                     ('2007_000042', 15), ('2007_000123', 1)]
    mapping = json.load(open(IMAGENET_TO_VOC))['mapping']
    meta = dataset[1]['data_samples'].metainfo
    assert meta['target_class'] == 12
    assert meta['class_label'] == mapping['dog']['condition_on']
    assert dataset[0]['data_samples'].metainfo['class_label'] == \
        mapping['cat']['condition_on']


def test_custom_keys_and_map(tmp_path):
    voc = make_voc(str(tmp_path))
    content = json.load(open(IMAGENET_TO_VOC))
    content['mapping']['cat']['condition_on'] = 283
    dataset = _build(
        voc, class_map=content, cond_key='y', target_key='voc', pipeline=[])
    info = dataset.get_data_info(0)
    assert info['y'] == 283 and info['voc'] == 8


def test_missing_ground_truth_is_an_error(tmp_path):
    voc = make_voc(str(tmp_path))
    with pytest.raises(ValueError, match='seg_map_path'):
        _build(voc, data_prefix=dict(img_path='JPEGImages'))
