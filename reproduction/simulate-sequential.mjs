// Simulates the sequential certifier on each image of a Cohen results file, with synthetic votes at the image's
// p̂ = nA/n (seed 7), to weigh settings without the model. Usage:
// node reproduction/simulate-sequential.mjs COHEN.jsonl ALPHA MAX_SAMPLES '[{}, {"futilityAlpha": 0.5}]'
import { readFileSync } from 'node:fs';
import { SequentialCertifier, ablationBound, Rng } from '@ablate/core';
const file = process.argv[2]; const alpha = +process.argv[3]; const maxSamples = +process.argv[4];
const rows = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const bound = ablationBound(784, 45);
const configs = JSON.parse(process.argv[5]);
for (const cfg of configs) {
  const cert = new SequentialCertifier({ alpha, maxSamples, ...cfg });
  const samples = []; let lose = 0, gain = 0;
  for (const r of rows) {
    const p = r.nA / r.n; const rng = new Rng(7, r.index);
    const sampler = async (num) => { let a = 0; for (let i = 0; i < num; i++) if (rng.float() < p) a++; return Uint32Array.from([a, num - a]); };
    const c = await cert.certify(sampler, bound);
    samples.push(c.samples);
    const cr = r.prediction === null ? -1 : r.radius, sr = c.prediction === null ? -1 : c.radius;
    if (sr < cr) lose++; if (sr > cr) gain++;
  }
  samples.sort((a, b) => a - b);
  console.log(JSON.stringify(cfg), 'mean', Math.round(samples.reduce((a, b) => a + b) / samples.length), 'median', samples[samples.length >> 1], 'lose', lose, 'gain', gain);
}
