# Copyright (c) mmfactdiff contributors. All rights reserved.
import glob
import os
import os.path as osp
import shutil
import zipfile
from typing import Optional

from mmengine.dist import barrier, is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.runner.checkpoint import find_latest_checkpoint

from mmfactdiff.registry import HOOKS

TMP_SUFFIX = '.tmp'


def _fsync_dir(path: str) -> None:
    """Make a rename in directory ``path`` durable (best effort)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _commit(tmp_path: str, path: str) -> None:
    """Flush ``tmp_path`` to disk and rename it to ``path`` atomically.

    A directory (sharded checkpoints: FSDP local state dicts, DeepSpeed)
    replaces an existing ``path`` in two steps, so only its contents are
    complete-or-absent, not the swap itself.
    """
    if osp.isdir(tmp_path):
        if osp.isdir(path):
            shutil.rmtree(path)
        os.replace(tmp_path, path)
    else:
        with open(tmp_path, 'rb+') as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    _fsync_dir(osp.dirname(osp.abspath(path)))


def _write_text_atomic(path: str, text: str) -> None:
    tmp_path = path + TMP_SUFFIX
    with open(tmp_path, 'w') as f:
        f.write(text)
    _commit(tmp_path, path)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose checkpoints survive a crash at any moment.

    mmengine 0.10's ``CheckpointHook`` writes ``iter_N.pth`` in place
    (``open(path, 'wb')``), rewrites ``last_checkpoint`` in place, and, with
    ``max_keep_ckpts``, deletes the oldest kept checkpoint *before* writing
    the new one (with ``max_keep_ckpts=1`` that is the one
    ``last_checkpoint`` names). A run killed in the middle can therefore
    leave a half-written ``.pth``, an empty ``last_checkpoint``, or a
    pointer to a deleted file, and ``--resume`` fails.

    Here, on a local file system, a checkpoint is written to
    ``<name>.tmp``, flushed to disk (``fsync``) and renamed to ``<name>``
    (``os.replace`` is atomic); ``last_checkpoint`` is replaced the same
    way, only after the checkpoint is complete; outdated checkpoints are
    deleted only after that. Whenever the process dies,
    ``last_checkpoint`` names a complete checkpoint (or does not exist
    yet). Stale ``.tmp`` files of an interrupted save are removed when
    training starts.

    Before the runner loads a checkpoint (``--resume`` or ``load_from``), the
    file is checked (:meth:`check_file`), so a truncated or
    corrupt file gives an error that names it rather than torch's
    "failed finding central directory". (``FlexibleRunner`` loads before
    hooks run, so there the check does not apply.)

    Other storage backends (``backend_args``, e.g. object stores) and
    ``save_best`` checkpoints use mmengine's behaviour unchanged. Arguments
    are those of ``CheckpointHook``.
    """

    @staticmethod
    def check_file(path: str) -> None:
        """Raise a clear error, naming ``path``, if it is not a complete torch
        checkpoint.

        ``torch.save`` writes a zip archive; one cut short has no central
        directory, and a damaged one fails the CRC-32 of a member. (A file in
        torch's legacy, non-zip format is not checked.)

        Args:
            path (str): A local checkpoint file.

        Raises:
            FileNotFoundError: ``path`` does not exist.
            RuntimeError: ``path`` is empty, truncated or corrupt.
        """
        if osp.isdir(path):
            return  # a sharded checkpoint: left to the strategy that loads it
        if not osp.isfile(path):
            raise FileNotFoundError(f'Checkpoint {path} does not exist.')
        hint = ('Resume from an earlier checkpoint (--resume PATH) or delete '
                'the file and the `last_checkpoint` entry that names it.')
        with open(path, 'rb') as f:
            magic = f.read(4)
        if not magic:
            raise RuntimeError(f'Checkpoint {path} is empty. {hint}')
        if magic != b'PK\x03\x04':
            return  # not a zip: torch's legacy format, left to torch.load
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            raise RuntimeError(
                f'Checkpoint {path} is truncated or corrupt ({err}); it was '
                f'not written by a completed save. {hint}') from err
        if bad is not None:
            raise RuntimeError(f'Checkpoint {path} is corrupt: member {bad!r} '
                               f'fails its CRC check. {hint}')

    # -- loading ---------------------------------------------------------
    def before_run(self, runner) -> None:
        """Check the checkpoint the runner is about to load, if local."""
        super().before_run(runner)
        if getattr(runner, '_has_loaded', False):
            return
        resume = getattr(runner, '_resume', False)
        load_from = getattr(runner, '_load_from', None)
        path: Optional[str] = None
        if isinstance(resume, str):
            path = resume
        elif resume and load_from is None:
            path = find_latest_checkpoint(runner.work_dir)
            if path == '':
                raise RuntimeError(
                    f'{osp.join(runner.work_dir, "last_checkpoint")} is '
                    'empty: pass the checkpoint to resume from explicitly '
                    '(--resume PATH).')
        elif load_from is not None:
            path = load_from
        if path is not None and '://' not in path:
            self.check_file(path)

    # -- saving ----------------------------------------------------------
    def before_train(self, runner) -> None:
        """Set up as ``CheckpointHook`` and remove stale temporary files."""
        super().before_train(runner)
        if is_main_process() and isinstance(self.file_backend, LocalBackend):
            pattern = self.filename_tmpl.format('*') + TMP_SUFFIX
            for stale in glob.glob(
                    osp.join(glob.escape(self.out_dir), pattern)):
                os.remove(stale)

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        if not isinstance(self.file_backend, LocalBackend):
            return super()._save_checkpoint_with_step(runner, step, meta)

        # bookkeeping as CheckpointHook (the saved message hub must already
        # hold the new ids), but the deletion is deferred
        outdated = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)

        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename + TMP_SUFFIX,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)

        barrier()  # sharded checkpoints: every rank has written its part
        if not is_main_process():
            return
        _commit(self.last_ckpt + TMP_SUFFIX, self.last_ckpt)
        _write_text_atomic(
            osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        if outdated is not None:
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(outdated))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)
