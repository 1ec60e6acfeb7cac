// The oracle floor of each committed sequential protocol (issue 23) and the ratio "mean samples ÷ floor" of every
// certifier setting run under it.
//
// Definition (issue 23, quoted): "For each image, take Cohen's p̂_A = n_A/n and radius r from the Cohen results file;
// the smallest fixed n with CP-lower(⌊p̂_A·n⌋, n, α) > ½ + Δ(r) is what an oracle that knew p_A would spend to reach
// the same radius. […] images Cohen does not certify counted as 0: an optimistic floor."
// "CP-lower(…) > ½ + Δ(r)" is Corollary 1's condition lower(p, r) = p − Δ(r) > ½ (the bound's own `lower` is used,
// so this is exact for the ablation bound). The smallest n is found exactly, without assuming that
// CP-lower(⌊p̂·n⌋, n, α) is monotone in n (it is not): CP-lower(x, m) is the α quantile of Beta(x, m − x + 1), which
// rises with the successes x and falls with the failures m − x. Over a block a ≤ m ≤ b the successes are at most
// ⌊p̂·b⌋ and the failures m − ⌊p̂·m⌋ (non-decreasing in m) at least a − ⌊p̂·a⌋, so the block is skipped only when
// the quantile at those two extremes fails; other blocks are scanned one n at a time.
//
//   node reproduction/floor.mjs            prints the table of docs/performance.md
//   node reproduction/floor.mjs --write    and replaces it there (markers sequential-floor)
//   node reproduction/floor.mjs --json     per-protocol floors and ratios as JSON
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ablationBound, clopperPearsonLower } from '@ablate/core';
import { writeBetweenMarkers } from '../scripts/write-between-markers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const results = join(here, 'results');
const read = (f) => readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const readJson = (f) => JSON.parse(readFileSync(f, 'utf8'));

/** True when a fixed-n test with m samples, ⌊p̂·m⌋ of them for ĉA, certifies radius r at level α. */
function certifies(nA, n, m, alpha, bound, r) {
  const x = Math.floor((nA * m) / n); // nA·m < 2⁵³: exact
  return x > 0 && bound.lower(clopperPearsonLower(x, m, alpha), r) > 0.5;
}

/** The floor of one Cohen row: the smallest m with CP-lower(⌊p̂·m⌋, m, α) certifying the row's radius; 0 if none. */
export function floorOf(row, alpha, bound, block = 64) {
  if (row.prediction === null || row.radius === null || row.radius < 0) return 0;
  const { nA, n, radius: r } = row;
  for (let a = 1; a <= n; a += block) {
    const b = Math.min(n, a + block - 1);
    const x = Math.floor((nA * b) / n);
    const failures = a - Math.floor((nA * a) / n);
    if (x === 0 || !(bound.lower(clopperPearsonLower(x, x + failures, alpha), r) > 0.5)) continue;
    for (let m = a; m <= b; m++) if (certifies(nA, n, m, alpha, bound, r)) return m;
  }
  throw new Error(`image ${row.index}: no n ≤ ${n} certifies radius ${r} (the Cohen row does not recompute)`);
}

// log k! for the binomial tails below (reporting only, not certification)
const logFact = [0];
function logFactorial(k) {
  for (let i = logFact.length; i <= k; i++) logFact.push(logFact[i - 1] + Math.log(i));
  return logFact[k];
}
/** P(Bin(n, p) ≥ x), summed in log space (double precision; for the report). */
function upperTail(x, n, p) {
  if (x <= 0) return 1;
  if (p >= 1) return x <= n ? 1 : 0;
  let sum = 0;
  for (let k = x; k <= n; k++) sum += Math.exp(logFactorial(n) - logFactorial(k) - logFactorial(n - k) + k * Math.log(p) + (n - k) * Math.log1p(-p));
  return Math.min(1, sum);
}

/**
 * Why the floor is optimistic: the chance that a fixed-n test at n = the floor, with the votes drawn at rate p̂
 * (Bin(n, p̂), not the floor's ⌊p̂·n⌋), reaches the row's radius.
 */
export function floorHitRate(row, m, alpha, bound) {
  if (m === 0) return null;
  let lo = 1;
  let hi = m; // the smallest x with CP-lower(x, m, α) certifying the radius (monotone in x); ⌊p̂·m⌋ does
  while (lo < hi) {
    const x = (lo + hi) >> 1;
    if (bound.lower(clopperPearsonLower(x, m, alpha), row.radius) > 0.5) hi = x;
    else lo = x + 1;
  }
  return upperTail(lo, m, row.nA / row.n);
}

/** Bound of a committed run (MNIST ablation only: every sequential protocol is one). */
function boundOf(meta) {
  const { perturbation, dataset } = meta.config;
  if (perturbation.type !== 'ablation' || dataset.type !== 'mnist') throw new Error(`unsupported run: ${JSON.stringify(perturbation)} on ${dataset.type}`);
  return ablationBound(784, perturbation.retain);
}

/** Floors of every image of a Cohen results file: Map index → floor. */
export function floors(cohenName) {
  const file = join(results, `${cohenName}.jsonl`);
  const meta = readJson(`${file}.meta.json`);
  const alpha = meta.config.certifier.alpha;
  const bound = boundOf(meta);
  const rows = read(file);
  const floor = new Map(rows.map((r) => [r.index, floorOf(r, alpha, bound)]));
  const hits = rows.map((r) => floorHitRate(r, floor.get(r.index), alpha, bound)).filter((h) => h !== null);
  return { alpha, fixed: meta.config.certifier.n0 + meta.config.certifier.n, floor, hitRate: mean(hits) };
}

const radius = (r) => (r.correct && r.prediction !== null ? r.radius : -Infinity);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Protocols: the Cohen file that defines the floor, and the runs (name in results/, label) measured against it. */
export const PROTOCOLS = [
  {
    label: 'α = 0.05, 11 000 samples (Cohen n0 1 000 + n 10 000), test images 0–499',
    cohen: 'table1-k45',
    seed: 'cohen-seed1-table1-k45',
    runs: [
      ['Cohen (seed 0)', 'table1-k45'],
      ['Cohen (seed 1)', 'cohen-seed1-table1-k45'],
      ['sequential, defaults', 'sequential-table1-k45'],
      ['sequential, futilityAlpha 0.5', 'sequential-fast-table1-k45'],
      ['sequential, selection-informed schedule', 'sequential-informed-table1-k45'],
    ],
  },
  {
    label: "Lee et al.: α = 0.001, 100 100 samples (Cohen n0 100 + n 100 000), Table 7's 200 images",
    cohen: 'table7-ablation-k45',
    runs: [
      ['Cohen', 'table7-ablation-k45'],
      ['sequential, defaults', 'sequential-table7-ablation-k45'],
      ['sequential, futilityAlpha 0.5', 'sequential-fast-table7-ablation-k45'],
      ['sequential, selection-informed schedule', 'sequential-informed-table7-ablation-k45'],
    ],
  },
];

/** Each protocol's floor and each committed run's mean samples ÷ the mean floor of the same images. */
export function measure() {
  return PROTOCOLS.map((p) => {
    const { alpha, fixed, floor, hitRate } = floors(p.cohen);
    const all = [...floor.values()];
    const runs = [];
    const cohen = new Map(read(join(results, `${p.cohen}.jsonl`)).map((r) => [r.index, r]));
    const seedFile = p.seed && join(results, `${p.seed}.jsonl`);
    const seedImages = seedFile && existsSync(seedFile) ? new Set(read(seedFile).map((r) => r.index)) : null;
    // radius changes against the Cohen run that defines the floor (the paper's convention: wrong or abstained = −∞)
    const changes = (rows) => {
      let lose = 0;
      let gain = 0;
      for (const r of rows) {
        const a = radius(r);
        const b = radius(cohen.get(r.index));
        if (a < b) lose++;
        if (a > b) gain++;
      }
      return { lose, gain };
    };
    const defaultsFile = join(results, `${p.runs.find(([label]) => label === 'sequential, defaults')[1]}.jsonl`);
    const defaultRows = new Map(read(defaultsFile).map((r) => [r.index, r]));
    const defaults = new Map([...defaultRows].map(([i, r]) => [i, r.samples]));
    for (const [label, name] of p.runs) {
      const file = join(results, `${name}.jsonl`);
      if (!existsSync(file)) continue;
      const rows = read(file).filter((r) => floor.has(r.index));
      if (rows.length === 0) continue;
      const samples = mean(rows.map((r) => r.samples));
      const floorMean = mean(rows.map((r) => floor.get(r.index)));
      const onSeed = seedImages ? rows.filter((r) => seedImages.has(r.index)) : [];
      const same = rows.filter((r) => defaults.has(r.index));
      const complete = same.length === rows.length;
      const defaultsRatio = complete ? mean(same.map((r) => defaults.get(r.index))) / floorMean : null;
      const defaultsChanges = complete ? changes(same.map((r) => defaultRows.get(r.index))) : null;
      runs.push({ label, name, images: rows.length, meanSamples: samples, floorMean, ratio: samples / floorMean, defaultsRatio, defaultsChanges, ...changes(rows), onSeed: { images: onSeed.length, ...changes(onSeed) } });
    }
    return { label: p.label, cohen: p.cohen, alpha, fixed, images: all.length, floorMean: mean(all), floorMedian: median(all), hitRate, uncertified: all.filter((f) => f === 0).length, runs };
  });
}

function table(ms) {
  const n = (x) => Math.round(x).toLocaleString('en-US');
  const out = [
    '| protocol | images | floor: mean (median) | images Cohen does not certify (floor 0) | chance a fixed-n test at the floor reaches the radius (mean) | certifier setting | images run | mean samples | mean floor of those images | mean samples ÷ floor | the defaults’ ÷ floor on the same images | images losing / gaining radius vs Cohen (seed 0) | the defaults’ on the same images | the same on the images of the second Cohen seed |',
    '|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---|---|',
  ];
  for (const m of ms) {
    m.runs.forEach((r, i) => {
      const head = i === 0 ? `| ${m.label} | ${m.images} | **${n(m.floorMean)}** (${n(m.floorMedian)}) | ${m.uncertified} | ${(100 * m.hitRate).toFixed(0)}% |` : '| | | | | |';
      out.push(`${head} ${r.label} (\`${r.name}\`) | ${r.images} | ${n(r.meanSamples)} | ${n(r.floorMean)} | **${r.ratio.toFixed(2)}×** | ${r.defaultsRatio === null ? '—' : `${r.defaultsRatio.toFixed(2)}×`} | ${r.lose} / ${r.gain} | ${r.defaultsChanges ? `${r.defaultsChanges.lose} / ${r.defaultsChanges.gain}` : '—'} | ${r.onSeed.images ? `${r.onSeed.lose} / ${r.onSeed.gain} (${r.onSeed.images} images)` : '—'} |`);
    });
  }
  return out.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const ms = measure();
  if (process.argv.includes('--json')) console.log(JSON.stringify(ms, null, 1));
  else {
    const text = table(ms);
    console.log(text);
    if (process.argv.includes('--write')) {
      writeBetweenMarkers(join(here, '..', 'docs/performance.md'), 'sequential-floor', text);
      console.log('wrote docs/performance.md');
    }
  }
}
