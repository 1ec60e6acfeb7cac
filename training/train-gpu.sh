#!/usr/bin/env bash
# Trains the MNIST base classifiers of training/models.txt (or $MODELS) at once on one CUDA GPU, within a
# wall-clock budget, and leaves their final (weights-only) checkpoints in OUTDIR (logs in OUTDIR/logs.tar.gz). The
# number of epochs is the largest multiple of 10 (at most MAX_EPOCHS) that fits BUDGET seconds, measured by a
# 2-epoch calibration of all the runs side by side: the
# one-cycle schedule needs the total up front. Export and model cards happen afterwards, on any machine:
#   bash training/export-trained.sh OUTDIR             (CPU torch; writes models/*.onnx and the cards)
# Usage: bash training/train-gpu.sh MNIST_DIR OUTDIR [BUDGET_SECONDS] [MAX_EPOCHS]
#   MODELS=training/sweep-models.txt trains another list (default training/models.txt).
#   MNIST_DIR holds the four IDX files (plain or .gz). Env: PY (default python3), DEVICE (default cuda),
#   EXTRA (more train.py arguments, e.g. '--train-subset 512' for a smoke test).
set -uo pipefail
cd "$(dirname "$0")/.."
mnist=$1; outdir=$2; budget=${3:-400}; max_epochs=${4:-400}
PY=${PY:-python3}; DEVICE=${DEVICE:-cuda}
rm -rf /tmp/ablate-ckpt /tmp/ablate-cal; mkdir -p "$outdir" /tmp/ablate-ckpt /tmp/ablate-cal
logs=/tmp/ablate-logs; rm -rf "$logs"; mkdir -p "$logs"
mapfile -t runs < <(grep -v '^#' "${MODELS:-training/models.txt}" | grep .)
launch() {  # $1 = epochs, $2 = checkpoint folder, $3 = log suffix
  local pids=()
  for r in "${runs[@]}"; do
    local name=${r%% *} args=${r#* }
    # shellcheck disable=SC2086
    $PY training/train.py $args --epochs "$1" --seed 0 --threads 1 --device "$DEVICE" --mnist "$mnist" \
      --checkpoint-every 10 --train-only ${EXTRA:-} --checkpoint "$2/$name.ckpt" --out "models/$name.onnx" \
      > "$logs/$name$3.log" 2>&1 &
    pids+=($!)
  done
  local rc=0
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return $rc
}
launch 2 /tmp/ablate-cal .calibration || { tail -n 20 "$logs"/*.calibration.log; exit 1; }
# steady-state seconds per epoch of the slowest run = its epoch-2 time minus its epoch-1 time
per_epoch=$(for f in "$logs"/*.calibration.log; do grep '"epoch": 2' "$f"; grep '"epoch": 1,' "$f"; done |
  $PY -c 'import sys,json; r=[json.loads(l)["seconds"] for l in sys.stdin]; print(max(r[i]-r[i+1] for i in range(0,len(r),2)))')
epochs=$($PY -c "print(max(10, min($max_epochs, int($budget / $per_epoch) // 10 * 10)))")
echo "calibration: ${per_epoch}s per epoch with ${#runs[@]} runs side by side -> $epochs epochs (budget ${budget}s)"
launch "$epochs" /tmp/ablate-ckpt ""
rc=$?
cp /tmp/ablate-ckpt/*.ckpt "$outdir"/ 2>/dev/null
echo "$epochs" > "$logs/epochs"
tar -czf "$outdir/logs.tar.gz" -C "$logs" .
for f in "$logs"/*.log; do echo "== $f"; tail -n 2 "$f"; done
exit $rc
