# Copyright (c) mmfactdiff contributors. All rights reserved.
"""The repository's results as data: rows of ``docs/data/results/*.json``.

Every number the docs report is a row (a dict with at least dataset,
method, config, seed, metric, value, iterations, labels_used) in the JSON
list of its dataset, written by the tool that measured it. Rows with the
same key fields (:data:`ROW_KEY_FIELDS`) are one measurement: a new one
replaces the old.
"""
import json
import os
import os.path as osp
from typing import Dict, List

from .io_utils import dump_json_atomic

# ``t``: the noise level of rows measured at one (mask_gain_by_t.py)
ROW_KEY_FIELDS = ('dataset', 'method', 'config', 'cfg_options', 'seed',
                  'metric', 'iterations', 'weights', 'device', 't')


def _key(row: Dict) -> tuple:
    return tuple(
        json.dumps(row.get(k), sort_keys=True) for k in ROW_KEY_FIELDS)


def update_result_rows(path: str, new_rows: List[Dict]) -> int:
    """Merge rows into the JSON list at ``path``.

    Rows with the same key fields are replaced; the file is rewritten
    atomically, sorted by method, config, options, seed, metric and
    iterations. Runs that finish together may record at once: the update
    holds a lock file (``path + '.lock'``).

    Returns:
        int: The number of rows in the file.

    Raises:
        ValueError: ``path`` holds something other than a JSON list.
    """
    import fcntl
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path + '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = []
        if osp.isfile(path):
            with open(path) as f:
                rows = json.load(f)
            if not isinstance(rows, list):
                raise ValueError(f'{path}: expected a JSON list of rows')
        merged = {_key(r): r for r in rows}
        for r in new_rows:
            merged[_key(r)] = r
        out = sorted(
            merged.values(),
            key=lambda r:
            (r['method'], r['config'], str(r.get('cfg_options')), r['seed']
             if r['seed'] is not None else -1, r['metric'], r['iterations']))
        dump_json_atomic(out, path)
        return len(out)
