#!/usr/bin/env bash
# The project's test command (README, CI): set up the pinned environment
# (cached; seconds when already built), then run the test suite.
#   bash tools/run_tests.sh [pytest args...]
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
bash tools/setup_env.sh
export PYTHONHASHSEED=0 OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
# formatting (OpenMMLab's yapf style, setup.cfg): fail on any diff
if ! .venv/bin/yapf --diff -r mmfactdiff tools projects tests configs \
        > /tmp/mmfactdiff-yapf.diff; then
    cat /tmp/mmfactdiff-yapf.diff
    echo 'yapf: the files above are not formatted; run' \
        '.venv/bin/yapf -i -r mmfactdiff tools projects tests configs'
    exit 1
fi
# lint and import order (OpenMMLab's flake8 and isort settings, setup.cfg)
.venv/bin/flake8 mmfactdiff tools projects tests configs
.venv/bin/isort --check-only --diff mmfactdiff tools projects tests configs
exec .venv/bin/python -m pytest tests -q -p no:cacheprovider \
    --timeout=900 "$@"
