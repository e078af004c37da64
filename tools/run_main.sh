#!/usr/bin/env bash
# The main job (README): on a fresh machine, set up the environment, train
# the factorized model on the built-in synthetic data, evaluate its masks on
# held-out images, generate samples, and leave a visual report.
#
#   bash tools/run_main.sh [WORK_DIR] [key=value config overrides...]
#
# Environment variables: CONFIG (default: the CPU config below), ITERS
# (training length; default: the config's), SEED (default 0). Overrides
# after WORK_DIR go to tools/train.py's --cfg-options (one list: argparse
# keeps only the last --cfg-options flag).
# Re-running resumes an interrupted training run from its last checkpoint.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
bash tools/setup_env.sh
PY="$REPO/.venv/bin/python"
CONFIG="${CONFIG:-configs/factdiff/factdiff_unet-probe-k2-ema-lowt-best_1xb32-1500_synthetic-32x32.py}"
WORK_DIR="${1:-work_dirs/main}"
shift || true
SEED="${SEED:-0}"
OPTS=(randomness.seed="$SEED")
[ -n "${ITERS:-}" ] && OPTS+=(train_cfg.max_iters="$ITERS")
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}"
start=$(date +%s)

echo "== 1/4 training ($CONFIG) -> $WORK_DIR"
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" --resume \
    --cfg-options "${OPTS[@]}" "$@"
# the same overrides for the steps below, which read the config too
EVAL_OPTS=()
[ "$#" -gt 0 ] && EVAL_OPTS=(--cfg-options "$@")
# the checkpoint the config's label-free selection kept (save_best), else
# the last one
BEST=$(ls "$WORK_DIR"/best_*.pth 2>/dev/null | head -1 || true)
CKPT="${BEST:-$WORK_DIR/$(cat "$WORK_DIR/last_checkpoint" | xargs basename)}"

echo "== 2/4 evaluating $CKPT on held-out images"
"$PY" tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK_DIR/test" \
    "${EVAL_OPTS[@]}"

echo "== 3/4 sampling 16 images with their masks (DDIM, 50 steps)"
"$PY" tools/sample.py "$CONFIG" "$CKPT" --out-dir "$WORK_DIR/samples" \
    --num-samples 16 --scheduler ddim --num-steps 50 "${EVAL_OPTS[@]}"

echo "== 4/4 segmentation report"
"$PY" tools/analysis_tools/segmentation_report.py "$CONFIG" "$CKPT" \
    --out "$WORK_DIR/segmentation_grid.png" "${EVAL_OPTS[@]}"

echo
echo "done in $(( $(date +%s) - start )) s. Report in $WORK_DIR:"
echo "  metrics:       $(ls -t "$WORK_DIR"/test/*/*.json 2>/dev/null | head -1)"
echo "  segmentation:  $WORK_DIR/segmentation_grid.png (image | regions | ground truth)"
echo "  samples:       $WORK_DIR/samples/samples_grid.png (image | regions)"
echo "  training:      $WORK_DIR/*/vis_data (scalars, sample grids; tensorboard --logdir $WORK_DIR)"
