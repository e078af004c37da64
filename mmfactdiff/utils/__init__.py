# Copyright (c) mmfactdiff contributors. All rights reserved.
from .arg_checks import check_int
from .benchmark_utils import machine_info, rss_bytes, sync_device, timeit
from .io_utils import dump_json_atomic, ensure_writable
from .peak_rss_sampler import PeakRSSSampler
from .result_rows import ROW_KEY_FIELDS, update_result_rows
from .safe_loading import (TRUST_ENV, UnsafeCheckpointError,
                           add_trust_checkpoint_argument, load_checkpoint_file,
                           trust_checkpoints)

__all__ = [
    'timeit', 'sync_device', 'rss_bytes', 'machine_info', 'PeakRSSSampler',
    'dump_json_atomic', 'ensure_writable', 'load_checkpoint_file',
    'UnsafeCheckpointError', 'TRUST_ENV', 'trust_checkpoints',
    'add_trust_checkpoint_argument', 'check_int', 'ROW_KEY_FIELDS',
    'update_result_rows'
]
