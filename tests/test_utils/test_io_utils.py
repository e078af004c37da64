# Copyright (c) mmfactdiff contributors. All rights reserved.
import json
import os

from mmfactdiff.utils import dump_json_atomic


def test_dump_json_atomic_creates_folders_and_replaces_whole(tmp_path):
    path = tmp_path / 'a' / 'b' / 'out.json'
    dump_json_atomic(dict(x=[1, 2]), str(path))
    assert json.loads(path.read_text()) == dict(x=[1, 2])
    dump_json_atomic(dict(y=3), str(path))
    assert json.loads(path.read_text()) == dict(y=3)
    # nothing left beside it
    assert os.listdir(path.parent) == ['out.json']
