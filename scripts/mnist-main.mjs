// The README's main job: certify 100 MNIST test images with the shipped k = 45 model on ONNX Runtime CPU
// (n0 = 1 000, n = 10 000, α = 0.05, seed 0), run PREDICT on each (10 000 fresh samples: the paper's
// "classification accuracy" is PREDICT's), and print the summary beside the paper's k = 45 row (Table 1).
// Resumable: rerun to continue an interrupted run. Nothing is downloaded.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, summarize } from '@ablate/cli';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'results', 'readme-mnist-k45-100-predict.jsonl');
mkdirSync(dirname(out), { recursive: true });
if (process.argv.includes('--fresh')) rmSync(out, { force: true });
const t0 = performance.now();
const code = await main(['certify', '--config', join(root, 'examples/mnist-onnx/config.json'), '--count', '100', '--predict', '--out', out, '--resume']);
if (code !== 0) process.exit(code);
const s = summarize(out);
const minutes = ((performance.now() - t0) / 60000).toFixed(1);
const pct = (x) => `${(100 * x).toFixed(2)}%`;
console.log(`\nMNIST test images 0–99, ablation k = 45, multichannel, ONNX Runtime CPU, n0 = 1000, n = 10000, α = 0.05, PREDICT n = 10000 (${minutes} min)`);
console.log('| | images | classification accuracy, PREDICT (abstained) | CERTIFY accuracy (abstained) | median certified robustness |');
console.log('|---|---:|---:|---:|---:|');
console.log(`| this run | ${s.count} | ${pct(s.accuracy)} (${pct(s.abstainRate)}) | ${pct(s.certifyAccuracy)} (${pct(s.certifyAbstainRate)}) | ${s.medianCertifiedRadius ?? 'N/A'} |`);
console.log('| paper, Table 1 (10 000 images; 400 training epochs in the authors’ code) | 10 000 | 96.72% (0.45%) | not reported | 8 |');
console.log(`\nresults: ${out}\nfull summary: pnpm ablate summarize ${out}`);
