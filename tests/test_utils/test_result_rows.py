# Copyright (c) mmfactdiff contributors. All rights reserved.
"""The result-row store: one measurement per key, sorted, atomic."""
import json

import pytest

from mmfactdiff.utils import update_result_rows


def _row(method='m', seed=0, metric='fg_IoU', value=1.0, it=10):
    return dict(
        dataset='d',
        method=method,
        config='c.py',
        cfg_options=None,
        seed=seed,
        metric=metric,
        value=value,
        iterations=it,
        labels_used=0,
        weights='raw',
        device='CPU')


def test_rows_merge_by_key_and_stay_sorted(tmp_path):
    path = str(tmp_path / 'sub' / 'd.json')
    assert update_result_rows(path, [_row(seed=1), _row(seed=0)]) == 2
    # the same measurement again replaces, a new one is added
    assert update_result_rows(
        path, [_row(seed=1, value=5.0),
               _row(seed=None, method='a')]) == 3
    rows = json.loads(open(path).read())
    assert [(r['method'], r['seed']) for r in rows] == [('a', None), ('m', 0),
                                                        ('m', 1)]
    assert rows[2]['value'] == 5.0


def test_refuses_a_file_that_is_not_a_list(tmp_path):
    path = tmp_path / 'd.json'
    path.write_text('{"rows": []}')
    with pytest.raises(ValueError, match='d.json: expected a JSON list'):
        update_result_rows(str(path), [_row()])
    assert path.read_text() == '{"rows": []}'  # left as it was
