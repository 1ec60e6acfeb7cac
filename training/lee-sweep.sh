#!/usr/bin/env bash
# Chooses κ for the Lee-noise model: certifies 50 held-out validation images (MNIST training images
# 55 000–55 049, never used for training by train.py) with each sweep model and compares the median certified
# radius (features). Resumable. Writes $SWEEP_DIR/README.md. Run after training/train-all.sh made the sweep.
# SWEEP_DIR (default models/sweep, the 4-epoch sweep) holds mnist-lee-k<κ>.onnx + .json for κ = 0.1, 0.2, 0.3;
# models/sweep/long is the sweep at (nearly) the shipped models' length (training/sweep-models.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-50}
dir=${SWEEP_DIR:-models/sweep}
rows=""
# the hand-written "## Choice" section of an earlier run is kept
choice=$( [ -f "$dir/README.md" ] && sed -n '/^## Choice/,$p' "$dir/README.md" || true)
for kappa in 0.1 0.2 0.3; do
  model="$dir/mnist-lee-k${kappa}.onnx"
  out="$dir/mnist-lee-k${kappa}-validation.jsonl"
  node packages/cli/dist/bin.js certify --dataset mnist --split train --start 55000 --count "$COUNT" \
    --model "$model" --perturbation lee-noise --levels 256 --keep-prob "$kappa" --encoder identity \
    --n0 100 --n 10000 --alpha 0.05 --seed 0 --out "$out" --resume
  s=$(node packages/cli/dist/bin.js summarize "$out" --json)
  acc=$(node -e "const s=JSON.parse(process.argv[1]);console.log((100*s.accuracy).toFixed(1)+'% ('+(100*s.abstainRate).toFixed(1)+'%)')" "$s")
  med=$(node -e "console.log(JSON.parse(process.argv[1]).medianCertifiedRadius ?? 'N/A')" "$s")
  card=$(node -e "const c=require('./$dir/mnist-lee-k${kappa}.json');console.log(c.epochs+' | '+(100*c.history.at(-1).valAccuracy).toFixed(1)+'%')")
  rows="$rows| $kappa | $card | $acc | $med |\n"
done
{
  echo "# Lee-noise κ sweep (validation split)"
  echo
  echo "Models: \`training/train.py --perturbation lee-noise --levels 256 --keep-prob κ --seed 0\`, epochs below (see the .json cards)."
  echo "Judged on MNIST training images 55 000–$((55000 + COUNT - 1)) (held out from training), n0 = 100, n = 10 000, α = 0.05:"
  echo
  echo "| κ | epochs | base accuracy under noise (validation) | smoothed accuracy (abstained) | median certified radius (features) |"
  echo "|---:|---:|---:|---:|---:|"
  printf "%b" "$rows"
  echo
  echo "Produced by \`bash training/lee-sweep.sh\`. The sweep models themselves are not shipped (only the chosen κ is retrained, like the ablation models: see models/README.md)."
  echo
  echo "Rule: the largest validation median certified radius wins; a tie goes to the higher certified accuracy at the"
  echo "next radius (median + 1). Certified accuracies per radius are in the validation .jsonl files (\`ablate summarize\`)."
  if [ -n "$choice" ]; then echo; echo "$choice"; fi
} > "$dir/README.md"
cat "$dir/README.md"
