// Simulates the sequential certifier on each image of a Cohen results file, with synthetic votes at the image's
// p̂ = nA/n (seed 7), to weigh settings without the model. Prints, per setting, the mean samples, their ratio to the
// oracle floor (floor.mjs) and the images losing / gaining radius against the Cohen file; first the same for a
// simulated second Cohen run (votes at p̂, seed 8: what a fresh Cohen seed loses in this simulation).
//   node reproduction/simulate-sequential.mjs COHEN-NAME ALPHA MAX_SAMPLES '[{}, {"futilityAlpha": 0.5}]' [MODE]
// COHEN-NAME is a file of reproduction/results without .jsonl (e.g. table1-k45). MODE:
//   free     (default) the certifier as configured
//   target   each image with targetRadius = its Cohen radius: stops at the first check that decides it (an oracle
//            that knows the radius to aim for; measures the cost of the schedule alone)
//   perfect  (or perfect-target, both) the focus check (focusShare > 0) placed from the true p̂ instead of the selection samples (an oracle
//            pilot; the upper limit of the selection-informed schedule)
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SequentialCertifier, ablationBound, clopperPearsonLower, radiusFunction, Rng } from '@ablate/core';
import { floors } from './floor.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const [fileArg, alphaArg, maxArg, configsArg, mode = 'free'] = process.argv.slice(2);
const name = fileArg.split('/').pop().replace(/\.jsonl$/, ''); // a name in results/ (a path to it also works)
const alpha = +alphaArg;
const maxSamples = +maxArg;
const rows = readFileSync(join(here, 'results', `${name}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const { floor } = floors(name);
const floorMean = [...floor.values()].reduce((a, b) => a + b, 0) / floor.size;
const bound = ablationBound(784, 45);
const radiusOf = radiusFunction(bound);
const cohenRadius = (r) => (r.prediction === null ? -1 : r.radius);
const votes = (p, rng) => async (num) => {
  let a = 0;
  for (let i = 0; i < num; i++) if (rng.float() < p) a++;
  return Uint32Array.from([a, num - a]);
};

{
  const n = rows[0].n;
  let lose = 0;
  let gain = 0;
  for (const r of rows) {
    const [a] = await votes(r.nA / r.n, new Rng(8, r.index))(n);
    const radius = radiusOf(clopperPearsonLower(a, n, alpha));
    if (radius < cohenRadius(r)) lose++;
    if (radius > cohenRadius(r)) gain++;
  }
  console.log(`simulated Cohen, another seed: mean ${rows[0].samples} ratio ${(rows[0].samples / floorMean).toFixed(2)} lose ${lose} gain ${gain}`);
}

let truth = 0;
/** The certifier with its focus check placed from the true p̂ (MODE perfect). */
class PerfectPilot extends SequentialCertifier {
  scheduleFor(budget, top, used, b) {
    return super.scheduleFor(budget, Math.round(truth * 1e6), 1e6, b);
  }
}

for (const cfg of JSON.parse(configsArg)) {
  let total = 0;
  let lose = 0;
  let gain = 0;
  for (const r of rows) {
    truth = r.nA / r.n;
    const target = mode.includes('target') && cohenRadius(r) >= 0 ? { targetRadius: cohenRadius(r) } : {};
    const cert = new (mode.includes('perfect') ? PerfectPilot : SequentialCertifier)({ alpha, maxSamples, ...cfg, ...target });
    const c = await cert.certify(votes(truth, new Rng(7, r.index)), bound);
    total += c.samples;
    const radius = c.prediction === null ? -1 : c.radius;
    if (radius < cohenRadius(r)) lose++;
    if (radius > cohenRadius(r)) gain++;
  }
  const mean = total / rows.length;
  console.log(`${mode} ${JSON.stringify(cfg)}: mean ${Math.round(mean)} ratio ${(mean / floorMean).toFixed(2)} lose ${lose} gain ${gain}`);
}
