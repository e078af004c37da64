# Copyright (c) mmfactdiff contributors. All rights reserved.
"""The one way mmfactdiff loads checkpoint files.

A checkpoint is a pickle: unpickling one from an untrusted source can run
arbitrary code. :func:`load_checkpoint_file` uses torch's weights-only
unpickler, allowing only the few types mmengine training checkpoints hold,
and only while it loads. Anything else in the file is refused before it
runs. Loading a full pickle needs an explicit opt-in: ``trusted=True``,
the tools' ``--trust-checkpoint`` flag, or ``MMFACTDIFF_TRUST_CHECKPOINTS=1``.

Importing mmfactdiff registers :func:`load_checkpoint_file` as mmengine's
loader for local paths (``CheckpointLoader.register_scheme``), so
``--resume``, ``load_from``, ``tools/test.py``, mmseg's ``init_model`` and
inferencer all go through it. Torch's own global state is not changed.
"""
import argparse
import contextlib
import os
import os.path as osp
import pickle
from typing import Iterator, Optional

import torch

from .torch_compat import mmengine_checkpoint_globals

#: set to ``1`` to load checkpoints as full pickles (only for files whose
#: source you trust)
TRUST_ENV = 'MMFACTDIFF_TRUST_CHECKPOINTS'

#: what torch's weights-only unpickler says when it refuses an object (as
#: opposed to failing on a corrupt file)
UNSAFE_MARKERS = ('Unsupported global', 'Unsupported class',
                  'unrecognized function', 'not an allowed global')


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds objects outside the weights-only allow-list."""


def load_checkpoint_file(filename: str,
                         map_location=None,
                         trusted: Optional[bool] = None) -> dict:
    """Load a checkpoint file safely.

    Args:
        filename (str): Path of the file.
        map_location: As :func:`torch.load`.
        trusted (bool, optional): Load it as a full pickle (runs whatever
            code the file holds). None reads ``MMFACTDIFF_TRUST_CHECKPOINTS``
            (``1``: trusted). Defaults to None.

    Returns:
        dict: The checkpoint.

    Raises:
        FileNotFoundError: No such file.
        UnsafeCheckpointError: The file holds objects that the weights-only
            unpickler refuses (nothing from it has run).
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    if trusted is None:
        trusted = os.environ.get(TRUST_ENV, '') == '1'
    if trusted:
        return torch.load(
            filename, map_location=map_location, weights_only=False)
    try:
        with mmengine_checkpoint_globals():
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        if not any(m in str(e) for m in UNSAFE_MARKERS):
            raise  # a corrupt or truncated file, not a refused object
        raise UnsafeCheckpointError(
            f'refused to load {filename}: it holds objects outside the '
            'tensors, containers and mmengine types a checkpoint needs, '
            'and unpickling them could run code. Nothing from it has run. '
            'If you trust its source, load it with --trust-checkpoint '
            f'(tools) or {TRUST_ENV}=1. Unpickler: '
            f'{str(e).splitlines()[-1] if str(e) else e!r}') from e


def register_safe_local_loader() -> None:
    """Make :func:`load_checkpoint_file` mmengine's loader of local paths.

    mmengine's default calls ``torch.load`` with torch's defaults, which
    refuses mmengine's own checkpoints on torch >= 2.6 and, on older torch,
    loads any pickle.
    """
    from mmengine.runner.checkpoint import CheckpointLoader

    # named as mmengine's own local loader: mmengine logs the backend as
    # the loader's name after 'load_from_' ("Loads checkpoint by local ...")
    def load_from_local(filename, map_location):
        return load_checkpoint_file(filename, map_location)

    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)


@contextlib.contextmanager
def trust_checkpoints(enabled: bool = True) -> Iterator[None]:
    """Load checkpoints as full pickles inside the context (when
    ``enabled``): what the tools' ``--trust-checkpoint`` flag does.
    Only for files whose source you trust."""
    if not enabled:
        yield
        return
    old = os.environ.get(TRUST_ENV)
    os.environ[TRUST_ENV] = '1'
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(TRUST_ENV, None)
        else:
            os.environ[TRUST_ENV] = old


def add_trust_checkpoint_argument(parser: argparse.ArgumentParser) -> None:
    """Add the tools' ``--trust-checkpoint`` flag (one wording for all)."""
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='load checkpoints as full pickles (runs any code they '
        'hold: only for files whose source you trust); by default only '
        'tensors, containers and mmengine checkpoint types are '
        'unpickled')
