# Copyright (c) mmfactdiff contributors. All rights reserved.
import json
import os
import os.path as osp
import tempfile


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


def ensure_writable(path: str, option: str, folder: bool = False) -> None:
    """Check, before a tool does its work, that it can write its output.

    Creates the missing parent folders (or the folder itself when
    ``folder``) and writes and removes a probe file there, so that a long
    run does not lose its results to a bad path at the end.

    Args:
        path (str): The output file (or folder, with ``folder=True``).
        option (str): The command-line option that named it, for the error.
        folder (bool): ``path`` is a folder. Defaults to False.

    Raises:
        ValueError: Naming the option, the path and the reason.
    """
    target = osp.abspath(path) if folder else osp.dirname(osp.abspath(path))
    if not folder and osp.isdir(path):
        raise ValueError(f'{option} {path} is a folder; give a file name')
    try:
        os.makedirs(target, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=target, prefix='.write-check-')
        os.close(fd)
        os.remove(probe)
    except OSError as e:
        raise ValueError(f'{option} {path}: cannot write there ({e})') from e
