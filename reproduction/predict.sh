#!/usr/bin/env bash
# PREDICT (Cohen et al.) for the images of the committed CERTIFY results, resumably, in rounds of CHUNK images
# over every table so that a stop leaves each table with PREDICT on a prefix of its images.
# Writes reproduction/results/predict/<name>.jsonl with `ablate predict` (the same substream and sample count
# that `ablate certify --predict` uses, so each row's prediction/pValue/nA/nB/n is the `predict` field that
# `certify --predict` would write); `node reproduction/join-predict.mjs` joins them into the certify rows.
# Usage: bash reproduction/predict.sh [CHUNK] [NAMES...]   (nice'd; rerun to continue)
set -euo pipefail
cd "$(dirname "$0")/.."
chunk=${1:-50}
shift || true
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(table1-k20 table1-k45 table1-k100 table8-k45-mean table7-ablation-k45 table7-lee-noise table7-lee-noise-k0.2)
mkdir -p reproduction/results/predict
# Table 7 certifies with n = 100 000 (Lee et al.'s protocol); PREDICT uses the paper's/Cohen's 10 000 there too.
predict_n() { case $1 in table7-*) echo 10000 ;; *) echo "" ;; esac; }
max=0
for name in "${names[@]}"; do
  rows=$(wc -l < "reproduction/results/$name.jsonl")
  [ "$rows" -gt "$max" ] && max=$rows
done
for ((end = chunk; end < max + chunk; end += chunk)); do
  for name in "${names[@]}"; do
    rows=$(wc -l < "reproduction/results/$name.jsonl")
    count=$(( end < rows ? end : rows ))
    n=$(predict_n "$name")
    nice -n 10 node packages/cli/dist/bin.js predict --config "reproduction/configs/$name.json" --count "$count" \
      ${n:+--predict-n "$n"} --out "reproduction/results/predict/$name.jsonl" --resume 2>>"${PREDICT_LOG:-/dev/null}"
  done
done
