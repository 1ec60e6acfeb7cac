// Writes models/README.md from the model cards (models/*.json) that training/train.py leaves beside each model.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const models = join(dirname(fileURLToPath(import.meta.url)), '..', 'models');
const cards = readdirSync(models)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(models, f), 'utf8')))
  .filter((c) => c.model && c.command);
const pct = (x) => `${(100 * x).toFixed(2)}%`;
const lines = [
  '# Shipped base classifiers',
  '',
  'The paper\'s MNIST CNN (Conv 64 4×4 s2 p1 · ReLU · Conv 128 4×4 s2 p1 · ReLU · Linear 6272→500 · ReLU · Linear 500→100 · ReLU · Linear 100→10), trained with `training/train.py` (PyTorch, Debian\'s python3-torch) on MNIST training images 0–54 999 (55 000–59 999 held out for validation), one perturbation draw per minibatch as in the paper. ONNX input `input` [N, C, 28, 28] float32 after encoding, output `logits` [N, 10]. Each `.json` card holds the full history.',
  '',
  '| model | perturbation | encoder | epochs | training wall time | validation accuracy (perturbed) | base accuracy on perturbed test images | command |',
  '|---|---|---|---:|---:|---:|---:|---|',
];
for (const c of cards.sort((a, b) => a.model.localeCompare(b.model))) {
  const p = c.perturbation.type === 'ablation' ? `ablation k = ${c.perturbation.retain}` : `lee-noise K = ${c.perturbation.levels}, κ = ${c.perturbation.keepProb}`;
  const enc = c.encoder.type + (c.encoder.fill !== undefined ? ` (fill ${c.encoder.fill.toFixed(4)})` : '');
  lines.push(`| \`${c.model}\` | ${p} | ${enc} | ${c.epochs} | ${(c.trainingSeconds / 60).toFixed(1)} min (${c.threads} thread) | ${pct(c.history.at(-1).valAccuracy)} | ${pct(c.baseAccuracyPerturbedTest)} | \`${c.command}\` |`);
}
lines.push('', 'Seed 0 for all; optimizer Adam with a one-cycle learning-rate schedule (max 1e−3), batch 128. `*-tfjs/` folders hold the same weights as tfjs LayersModels (`node training/export-tfjs.mjs`). Retrain everything with `bash training/train-all.sh` (resumable).', '');
writeFileSync(join(models, 'README.md'), lines.join('\n'));
console.log(lines.join('\n'));
