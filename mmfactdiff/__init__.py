# Copyright (c) mmfactdiff contributors. All rights reserved.
"""mmfactdiff: factorized diffusion for unsupervised generation and
segmentation, as an mmsegmentation plugin.

Importing this package registers every config-facing module into
mmsegmentation's registries, so that standard configs work with
``custom_imports=dict(imports=['mmfactdiff'])``.
"""
import mmcv
import mmengine
from mmengine.utils import digit_version

from .version import __version__, version_info

MMCV_MIN = '2.0.0rc4'
MMCV_MAX = '2.2.0'
MMENGINE_MIN = '0.5.0'
MMENGINE_MAX = '1.0.0'
MMSEG_MIN = '1.2.0'
MMSEG_MAX = '1.3.0'


def _check_version(name: str, version: str, low: str, high: str) -> None:
    if not (digit_version(low) <= digit_version(version) <
            digit_version(high)):
        raise AssertionError(
            f'{name}=={version} is used but incompatible with mmfactdiff '
            f'{__version__}: please install {name}>={low}, <{high} '
            '(or run tools/setup_env.sh, which pins a tested stack).')


_check_version('mmcv', mmcv.__version__, MMCV_MIN, MMCV_MAX)
_check_version('mmengine', mmengine.__version__, MMENGINE_MIN, MMENGINE_MAX)

import mmseg  # noqa: E402

_check_version('mmsegmentation', mmseg.__version__, MMSEG_MIN, MMSEG_MAX)

from .utils.safe_loading import register_safe_local_loader  # noqa: E402

# local checkpoint files load through the package's safe loader
register_safe_local_loader()

from . import apis, datasets, engine, evaluation, models, visualization  # noqa: E402,F401,E501  # isort: skip

__all__ = ['__version__', 'version_info', 'digit_version']
