#!/usr/bin/env bash
# Table 2 (Pointwise L0 attack), resumably: appends to reproduction/results/<name>.jsonl, skips images already
# there, saves each best adversarial example as reproduction/results/<name>-examples/<index>.png. Runs under nice.
# Usage: bash reproduction/attack.sh NAME [COUNT] [extra ablate-attack flags]
#   bash reproduction/attack.sh table2-undefended 100 --target base
#   bash reproduction/attack.sh table2-k45 50 --predict-n 100 --restarts 1   (what this machine afforded: search queries
#     are sequential PREDICT ≤ 100 samples, every reported example confirmed by a fresh PREDICT with 10 000; see docs/reproduction.md)
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1
count=${2:-50}
shift 2 || shift $#
nice -n 10 node packages/cli/dist/bin.js attack --config "reproduction/configs/$name.json" --count "$count" \
  --out "reproduction/results/$name.jsonl" --resume --save-examples "reproduction/results/$name-examples" "$@"
