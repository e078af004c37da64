# Copyright (c) mmfactdiff contributors. All rights reserved.
import json

import pytest
from mmseg.datasets import PascalVOCDataset

from mmfactdiff.datasets import IMAGENET_TO_VOC, load_class_map

VOC_OBJECTS = PascalVOCDataset.METAINFO['classes'][1:]


def test_shipped_map_covers_the_20_voc_classes_with_valid_indices():
    mapping = load_class_map(IMAGENET_TO_VOC, VOC_OBJECTS)
    assert sorted(mapping) == sorted(VOC_OBJECTS) and len(mapping) == 20
    seen = set()
    for name, entry in mapping.items():
        assert all(0 <= i < 1000 for i in entry['imagenet']), name
        assert entry['condition_on'] in entry['imagenet']
        # an ImageNet class shows one VOC class only
        assert not seen & set(entry['imagenet']), name
        seen |= set(entry['imagenet'])
    # a few anchors of the standard ImageNet-1k order
    assert mapping['cat']['imagenet'] == [281, 282, 283, 284, 285]
    assert mapping['dog']['imagenet'] == list(range(151, 269))
    assert 404 in mapping['aeroplane']['imagenet']  # airliner


def test_shipped_map_is_packed_with_the_package():
    """setup.py ships the JSON files beside the module that reads them."""
    import os.path as osp

    from conftest import REPO_ROOT

    import mmfactdiff
    assert IMAGENET_TO_VOC.startswith(osp.dirname(mmfactdiff.__file__))
    with open(osp.join(REPO_ROOT, 'setup.py')) as f:
        assert 'datasets/class_maps/*.json' in f.read()


def test_bad_maps_name_the_file_and_field(tmp_path):
    good = json.load(open(IMAGENET_TO_VOC))
    path = tmp_path / 'map.json'

    def write(content):
        path.write_text(json.dumps(content))
        return str(path)

    missing = dict(mapping=dict(good['mapping']))
    missing['mapping'].pop('sofa')
    with pytest.raises(ValueError, match=r"map.json.*'sofa'"):
        load_class_map(write(missing), VOC_OBJECTS)
    bad = json.loads(json.dumps(good))
    bad['mapping']['cat']['imagenet'] = [281, 1000]
    with pytest.raises(ValueError, match='mapping.cat: 1000'):
        load_class_map(write(bad), VOC_OBJECTS)
    bad = json.loads(json.dumps(good))
    bad['mapping']['cat']['condition_on'] = 207
    with pytest.raises(ValueError, match='condition_on'):
        load_class_map(write(bad), VOC_OBJECTS)
    with pytest.raises(FileNotFoundError, match='nope.json'):
        load_class_map(str(tmp_path / 'nope.json'), VOC_OBJECTS)
