#!/usr/bin/env bash
# The project's test command (README, CI): set up the pinned environment
# (cached; seconds when already built), then run the test suite.
#   bash tools/run_tests.sh [pytest args...]
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
bash tools/setup_env.sh
export PYTHONHASHSEED=0 OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
exec .venv/bin/python -m pytest tests -q -p no:cacheprovider \
    --timeout=900 "$@"
