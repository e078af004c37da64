# Copyright (c) mmfactdiff contributors. All rights reserved.
import importlib.util
import os.path as osp
from types import ModuleType

import pytest
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_tool(rel_path: str) -> ModuleType:
    """Import a script under tools/ by its path relative to the repository
    (tools are scripts, not a package). The module is named ``tool_<stem>``
    so that it never shadows a real module."""
    path = osp.join(REPO_ROOT, rel_path)
    name = 'tool_' + osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
