#!/usr/bin/env bash
# Trains every shipped MNIST base classifier, one after another. Idempotent and resumable: a model whose
# .onnx exists is skipped; an interrupted one resumes from its checkpoint. Run from anywhere:
#   bash training/train-all.sh            (THREADS=2 to use both cores)
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-1}
export OPENBLAS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS
PY=/usr/bin/python3
EPOCHS=${EPOCHS:-260}  # the shipped models: 260 (see models/README.md)
mkdir -p models/checkpoints
run() {
  local out=$1; shift
  if [ -f "$out" ]; then echo "skip $out (exists)"; return; fi
  local name; name=$(echo "${out#models/}" | sed 's|/|-|g; s|\.onnx$||')
  echo "== $name: $*"
  $PY training/train.py "$@" --threads "$THREADS" --seed 0 --out "$out" --checkpoint "models/checkpoints/$name.ckpt"
}
# the shipped models (training/models.txt); run `training/lee-sweep.sh` before changing the Lee model's κ there
grep -v '^#' training/models.txt | grep . | while read -r name args; do
  # shellcheck disable=SC2086
  run "models/$name.onnx" $args --epochs "$EPOCHS"
done
# κ sweep for Lee-style noise: short runs (4 epochs), judged on the validation split by
# training/lee-sweep.sh (median certified radius on 50 held-out training images); the sweep models are not shipped.
for kappa in 0.1 0.2 0.3; do
  run "models/sweep/mnist-lee-k${kappa}.onnx" --perturbation lee-noise --levels 256 --keep-prob "$kappa" --epochs 4
done
