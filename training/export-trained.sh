#!/usr/bin/env bash
# Exports checkpoints made by training/train-gpu.sh (or any `train.py --train-only` run) to the shipped ONNX
# models with their cards: reruns train.py with the same arguments, which finds the finished checkpoint, measures
# the base accuracy on perturbed test images on the CPU, exports ONNX and writes <model>.json.
# Usage: bash training/export-trained.sh CKPT_DIR     (CKPT_DIR holds <name>.ckpt and logs.tar.gz with `epochs`)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
PY=${PY:-/usr/bin/python3}
epochs=$(tar -xzOf "$dir/logs.tar.gz" ./epochs)
dest=${DEST:-models}   # with MODELS=training/sweep-models.txt: DEST=models/sweep/long
mkdir -p models/checkpoints "$dest"
grep -v '^#' "${MODELS:-training/models.txt}" | grep . | while read -r name args; do
  [ -f "$dir/$name.ckpt" ] || { echo "missing $dir/$name.ckpt" >&2; exit 1; }
  cp "$dir/$name.ckpt" "models/checkpoints/$name.ckpt"
  rm -f "$dest/$name.onnx"
  # shellcheck disable=SC2086
  $PY training/train.py $args --epochs "$epochs" --seed 0 --threads 2 --out "$dest/$name.onnx" \
    --checkpoint "models/checkpoints/$name.ckpt" ${EXTRA:-}
done
