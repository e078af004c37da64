# Copyright (c) mmfactdiff contributors. All rights reserved.
import json
import os
import os.path as osp


def dump_json_atomic(obj, path: str, indent: int = 1) -> None:
    """Write ``obj`` as JSON to ``path`` so that readers never see a partial
    file: it is written beside ``path`` and moved over it (``os.replace`` is
    atomic). Missing parent folders are created.

    Args:
        obj: A JSON-serialisable object.
        path (str): Destination file.
        indent (int): JSON indentation. Defaults to 1.
    """
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=indent)
    os.replace(tmp, path)
