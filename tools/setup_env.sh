#!/usr/bin/env bash
# Idempotent environment set-up for mmfactdiff (the single source of truth).
#
# Creates a Python virtual environment with a pinned OpenMMLab stack in which
# both `import mmseg.models` and `import mmagic.models` succeed, installs
# mmfactdiff into it in editable mode, and links it as `.venv` in the repo.
#
# The environment itself lives in a cache directory keyed by a hash of the
# pins below, so that a fresh clone on a machine that already built it (CI,
# a second checkout) only creates the link: a second run takes seconds.
#
#   bash tools/setup_env.sh          # build or reuse, then link .venv
#   MMFACTDIFF_CACHE=/path bash tools/setup_env.sh   # cache elsewhere
#   MMFACTDIFF_REBUILD=1 bash tools/setup_env.sh     # force a rebuild
#
# Why each pin exists is written in docs/installation.md; keep both in step.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
CACHE="${MMFACTDIFF_CACHE:-$HOME/.cache/mmfactdiff}"

TORCH_PINS="torch==2.14.1 torchvision==0.29.1"
MMCV_VERSION="2.1.0"
BUILD_PINS="setuptools==80.9.0 wheel==0.43.0 ninja==1.11.1.1"
STACK_PINS="numpy==1.26.4 mmengine==0.10.7 mmsegmentation==1.2.2 \
diffusers==0.24.0 transformers==4.36.2 huggingface_hub==0.25.2 \
tokenizers==0.15.2 opencv-python==4.10.0.84 pandas==2.2.3 ftfy==6.3.1 \
regex==2024.11.6 scipy==1.13.1 matplotlib==3.9.2 prettytable==3.12.0 \
einops==0.8.0 tensorboard==2.18.0 click==8.1.7 lmdb==1.5.1 \
safetensors==0.4.5 accelerate==0.34.2 addict==2.4.0 yapf==0.40.1 \
termcolor==2.5.0 rich==13.9.4 pyyaml==6.0.2 pillow==10.4.0 \
packaging==24.2 tqdm==4.67.1 imageio==2.36.1 lpips==0.1.4 resize-right==0.0.2 \
pytest==8.3.3 pytest-timeout==2.3.1"
# mmagic's own requirements pull in mediapipe, facexlib, face-alignment,
# controlnet-aux and av, none of which `import mmagic.models` needs: it is
# installed with --no-deps on top of the stack above, which carries what
# its import does need (diffusers, transformers, einops, imageio, lpips,
# resize-right, ...).
MMAGIC_PIN="mmagic==1.2.0"
# Small packages added after the stack was pinned (pure-Python test tools,
# and infomap, a binary wheel without requirements, for leopart_eval's
# community merging): installed on top of a cached environment when missing
# (seconds), without changing its key, so that adding one does not rebuild
# every machine's 7 GB environment.
TEST_PINS="hypothesis==6.112.0 attrs==26.1.0 sortedcontainers==2.4.0 \
flake8==7.1.1 pyflakes==3.2.0 pycodestyle==2.12.1 mccabe==0.7.0 isort==5.13.2 \
openmim==0.3.9 model-index==0.1.11 colorama==0.4.6 tabulate==0.10.0 \
ordered-set==4.1.0 markdown==3.11.4 infomap==2.16.0"
# (openmim's own requirements add opendatalab, which its train/test/run
# commands never import; with --no-deps it is left out.)

KEY="$(printf '%s\n' "$("$PYTHON" -V 2>&1)" "$TORCH_PINS" "$MMCV_VERSION" \
    "$BUILD_PINS" "$STACK_PINS" "$MMAGIC_PIN" | sha1sum | cut -c1-12)"
VENV="$CACHE/venv-$KEY"
STAMP="$VENV/.mmfactdiff-complete"

log() { echo "[setup_env] $*"; }

link_venv() {
    if [ "$(readlink "$REPO/.venv" 2>/dev/null)" != "$VENV" ]; then
        rm -rf "$REPO/.venv"
        ln -s "$VENV" "$REPO/.venv"
    fi
    # The editable install is per checkout: reinstall it if it points at
    # another clone (a pth file, no copy: seconds).
    # (run from / so that the checkout itself is not on sys.path)
    if ! (cd / && "$VENV/bin/python" - "$REPO" <<'PY' 2>/dev/null
import sys, os, mmfactdiff
sys.exit(0 if os.path.dirname(os.path.dirname(os.path.abspath(mmfactdiff.__file__))) == sys.argv[1] else 1)
PY
    ); then
        log "installing mmfactdiff (editable) from $REPO"
        "$VENV/bin/pip" install -q --no-deps --no-build-isolation -e "$REPO"
    fi
    for pin in $TEST_PINS; do
        if ! "$VENV/bin/pip" show -q "${pin%%==*}" >/dev/null 2>&1; then
            log "installing $pin"
            "$VENV/bin/pip" install -q --no-deps "$pin"
        fi
    done
}

if [ -f "$STAMP" ] && [ -z "${MMFACTDIFF_REBUILD:-}" ]; then
    log "reusing $VENV"
    link_venv
    exit 0
fi

start=$(date +%s)
log "building $VENV (first run on this machine: about 25 minutes)"
mkdir -p "$CACHE/wheels"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
PIP="$VENV/bin/pip"
"$PIP" install -q --upgrade "pip==24.2"
"$PIP" install -q $BUILD_PINS
log "torch ($TORCH_PINS)"
"$PIP" install -q $TORCH_PINS
log "OpenMMLab stack"
"$PIP" install -q $TORCH_PINS $STACK_PINS

# mmcv 2.1.0 ships no wheel for this Python/torch: build it with its C++ ops
# (mmseg imports mmcv.ops, so mmcv-lite is not enough). Its setup.py asks for
# -std=c++17, which torch >= 2.14's headers reject, hence the sed. The built
# wheel is cached, keyed by the torch pin, so a rebuild of the venv skips it.
TORCH_TAG="$(echo "$TORCH_PINS" | tr ' =' '_-')"
MMCV_WHEEL_DIR="$CACHE/wheels/mmcv-$MMCV_VERSION-$TORCH_TAG"
if ! ls "$MMCV_WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    log "building mmcv $MMCV_VERSION with CPU ops (about 15-20 minutes on 2 cores)"
    SRC="$(mktemp -d)"
    "$PIP" download -q --no-deps --no-binary :all: --no-build-isolation \
        "mmcv==$MMCV_VERSION" -d "$SRC"
    tar -xzf "$SRC"/mmcv-"$MMCV_VERSION".tar.gz -C "$SRC"
    sed -i 's/-std=c++17/-std=c++20/g' "$SRC/mmcv-$MMCV_VERSION/setup.py"
    mkdir -p "$MMCV_WHEEL_DIR.tmp"
    (cd "$SRC/mmcv-$MMCV_VERSION" && MMCV_WITH_OPS=1 FORCE_CUDA=0 \
        MAX_JOBS="${MAX_JOBS:-$(nproc)}" "$PIP" wheel -q --no-deps \
        --no-build-isolation . -w "$MMCV_WHEEL_DIR.tmp")
    rm -rf "$MMCV_WHEEL_DIR" && mv "$MMCV_WHEEL_DIR.tmp" "$MMCV_WHEEL_DIR"
    rm -rf "$SRC"
fi
"$PIP" install -q --no-deps "$MMCV_WHEEL_DIR"/mmcv-*.whl
"$PIP" install -q --no-deps "$MMAGIC_PIN"

log "checking the stack"
"$VENV/bin/python" - <<'PY'
import mmcv, mmengine, mmseg, torch
import mmcv.ops  # noqa: F401  (compiled ops present)
import mmseg.models  # noqa: F401
import mmagic.models  # noqa: F401
print('torch', torch.__version__, 'mmcv', mmcv.__version__,
      'mmengine', mmengine.__version__, 'mmseg', mmseg.__version__)
PY
touch "$STAMP"
link_venv
# Environments of older pin sets are 7 GB each: keep only this one.
for old in "$CACHE"/venv-*; do
    [ "$old" != "$VENV" ] && [ -d "$old" ] && rm -rf "$old"
done
log "done in $(( $(date +%s) - start )) s"
