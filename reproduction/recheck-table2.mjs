#!/usr/bin/env node
// A second look at Table 2's confirmed k = 45 examples: one more independent PREDICT (n = 10 000, α = 0.05) on
// each saved example, with seed 7 instead of the run's 0 (so its samples are independent of every search query
// and of the confirmation), under the image's true label. Each example was reported because one fresh PREDICT
// misclassified or abstained on it; this measures how often a second one does too (near a tie, PREDICT
// abstains only with some probability). Writes reproduction/results/table2-k45-recheck.jsonl (one row per
// example: index, label, magnitude, prediction, nA, nB, pValue, n); report.mjs quotes its count.
//   node reproduction/recheck-table2.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContainer } from '@ablate/core';
import '@ablate/backend-onnx';
import { decodePng } from '@ablate/datasets';

const here = dirname(fileURLToPath(import.meta.url));
const configFile = join(here, 'configs/table2-k45.json');
const rowsFile = join(here, 'results/table2-k45.jsonl');
const examples = join(here, 'results/table2-k45-examples');
const out = join(here, 'results/table2-k45-recheck.jsonl');
const N = 10_000;
const SEED = 7;

const rows = readFileSync(rowsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const config = { ...JSON.parse(readFileSync(configFile, 'utf8')), seed: SEED };
const rt = await createContainer(config, { baseDir: dirname(configFile) });
const lines = [];
try {
  for (const r of rows) {
    if (r.magnitude === null || r.magnitude === 0) continue;
    const image = decodePng(readFileSync(join(examples, `${r.index}.png`)));
    const p = await rt.smoothed.predict(image, { index: r.index, n: N });
    lines.push(JSON.stringify({ index: r.index, label: r.label, magnitude: r.magnitude, prediction: p.prediction, nA: p.nA, nB: p.nB, pValue: p.pValue, n: p.n }));
    console.log(lines.at(-1));
  }
} finally {
  await rt.dispose();
}
writeFileSync(out, lines.length ? `${lines.join('\n')}\n` : '');
