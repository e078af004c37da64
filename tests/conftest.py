# Copyright (c) mmfactdiff contributors. All rights reserved.
import os.path as osp

import pytest
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'slow: runs training subprocesses (part of the default '
        'suite; deselect with -m "not slow")')


@pytest.fixture(autouse=True)
def _seed_and_scope():
    """Deterministic tests, and mmseg as the default registry scope."""
    from mmengine.registry import DefaultScope
    import mmfactdiff  # noqa: F401  (registers the modules)
    torch.manual_seed(0)
    if not DefaultScope.check_instance_created('mmfactdiff-tests'):
        DefaultScope.get_instance('mmfactdiff-tests', scope_name='mmseg')
    yield
