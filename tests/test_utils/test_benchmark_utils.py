# Copyright (c) mmfactdiff contributors. All rights reserved.
import mmap
import time
import types

import pytest
import torch

import mmfactdiff.utils as utils
from mmfactdiff.utils import (PeakRSSSampler, benchmark_utils, machine_info,
                              rss_bytes, sync_device, timeit)


def test_exports():
    assert set(utils.__all__) == {
        'timeit', 'sync_device', 'rss_bytes', 'machine_info', 'PeakRSSSampler',
        'dump_json_atomic', 'load_checkpoint_file', 'UnsafeCheckpointError',
        'TRUST_ENV', 'trust_checkpoints', 'add_trust_checkpoint_argument',
        'ensure_writable', 'check_int', 'ROW_KEY_FIELDS', 'update_result_rows'
    }
    for name in utils.__all__:
        assert hasattr(utils, name)


def test_timeit_median_of_the_timed_calls(monkeypatch):
    # a fake clock that only the function advances: each call costs the
    # next number of ``costs``, so the timings are known exactly
    clock = [0.]
    costs = iter([100., 200., 5., 1., 3.])
    calls = []

    def fn():
        calls.append(1)
        clock[0] += next(costs)

    monkeypatch.setattr(benchmark_utils, 'time',
                        types.SimpleNamespace(perf_counter=lambda: clock[0]))
    out = timeit(fn, warmup=2, repeats=3)
    assert len(calls) == 5
    assert out['runs_s'] == [5., 1., 3.]  # the warm-up calls are untimed
    assert out['median_s'] == 3. and out['min_s'] == 1.


def test_timeit_runs_at_least_once():
    calls = []
    out = timeit(lambda: calls.append(1), warmup=0, repeats=0)
    assert len(calls) == 1 and len(out['runs_s']) == 1
    assert out['median_s'] == out['min_s'] >= 0


def test_sync_device_on_cpu_is_a_no_op():
    sync_device('cpu')


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_sync_device_on_cuda():
    torch.ones(4, device='cuda').sum()
    sync_device('cuda')


def _fresh_pages(nbytes):
    """Newly mapped memory with every page written. (A numpy array may
    reuse memory the allocator already holds, e.g. after earlier tests in
    the same process, and then the RSS does not grow.)"""
    buf = mmap.mmap(-1, nbytes)
    page = mmap.PAGESIZE
    for offset in range(0, nbytes, page):
        buf[offset] = 1
    return buf


def test_rss_grows_with_touched_pages():
    before = rss_bytes()
    assert before > 0
    nbytes = 64 * 2**20
    buf = _fresh_pages(nbytes)
    assert rss_bytes() - before >= nbytes // 2
    buf.close()


def test_peak_rss_sampler_sees_a_large_allocation():
    nbytes = 64 * 2**20
    with PeakRSSSampler() as sampler:
        start = sampler.peak
        buf = _fresh_pages(nbytes)
    assert sampler.peak >= start
    assert sampler.peak - start >= nbytes // 2
    buf.close()


def test_peak_rss_sampler_keeps_a_transient_maximum():
    level = [10]
    with PeakRSSSampler(lambda: level[0], period_s=1e-4) as sampler:
        assert sampler.peak == 10
        level[0] = 50
        # wait (with a generous safety limit) until the thread has polled
        deadline = time.monotonic() + 30
        while sampler.peak < 50 and time.monotonic() < deadline:
            time.sleep(1e-3)
        level[0] = 20
    assert sampler.peak == 50
    assert sampler.read() == 20  # the peak does not follow it down


def test_peak_rss_sampler_reads_on_exit():
    # whatever the thread saw, the reading at exit counts
    level = [1]
    with PeakRSSSampler(lambda: level[0], period_s=1e-3) as sampler:
        level[0] = 7
    assert sampler.peak == 7


def test_machine_info(tmp_path):
    info = machine_info('cpu', str(tmp_path))
    for key in ('cpu', 'cpu_count', 'torch_threads', 'python', 'torch',
                'mmengine', 'mmcv', 'mmseg', 'device', 'date', 'commit'):
        assert key in info, key
    assert info['device'] == 'cpu' and 'gpu' not in info
    assert info['torch'] == torch.__version__
    assert info['torch_threads'] == torch.get_num_threads()
    assert info['commit'] == 'unknown'  # tmp_path is no git checkout
