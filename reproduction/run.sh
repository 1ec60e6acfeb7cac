#!/usr/bin/env bash
# Reproduces the paper's MNIST rows, resumably: each run appends to reproduction/results/<name>.jsonl and
# skips images already there. Usage: bash reproduction/run.sh NAME [COUNT]   (NAME = a file in configs/)
# e.g. bash reproduction/run.sh table1-k45 500
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1
count=${2:-500}
shift 2 || shift $#
node packages/cli/dist/bin.js certify --config "reproduction/configs/$name.json" --count "$count" \
  --out "reproduction/results/$name.jsonl" --resume "$@"
