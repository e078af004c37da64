# Copyright (c) mmfactdiff contributors. All rights reserved.
from .backbones import *  # noqa: F401,F403
from .decode_heads import *  # noqa: F401,F403
from .decoders import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .schedulers import *  # noqa: F401,F403
from .segmentors import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403
