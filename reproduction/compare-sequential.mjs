// Compares sequential certify runs with the fixed-n (Cohen) run of the same model, config and seed on the images
// both contain: samples per image, wall time, radius changes and median certified robustness.
//   node reproduction/compare-sequential.mjs SEQUENTIAL.jsonl COHEN.jsonl   one comparison, as JSON
//   node reproduction/compare-sequential.mjs [--write]                      the table of docs/performance.md
//                                                                           (printed; --write replaces it)
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBetweenMarkers } from '../scripts/write-between-markers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const read = (f) => readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const readJson = (f) => JSON.parse(readFileSync(f, 'utf8'));
// the paper's convention: misclassified or abstained count as −∞
const radius = (r) => (r.correct && r.prediction !== null ? r.radius : -Infinity);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** The paper's median certified robustness: the largest ρ with at least half of the images certified at ≥ ρ. */
const medianRadius = (rs) => {
  const s = rs.map(radius).sort((a, b) => b - a);
  return s[Math.ceil(s.length / 2) - 1];
};
const fmtR = (r) => (Number.isFinite(r) ? String(r) : '−∞');

/**
 * One comparison. Cohen rows joined with PREDICT carry PREDICT's seconds in `seconds` (join-predict.mjs); those
 * are taken out again from reproduction/results/predict/<name>.jsonl so that wall times compare certificates.
 */
export function compare(seqFile, cohenFile) {
  const meta = readJson(`${cohenFile}.meta.json`);
  const fixed = meta.config.certifier.n0 + meta.config.certifier.n;
  const predictFile = join(dirname(cohenFile), 'predict', cohenFile.split('/').pop());
  let predictSeconds = new Map();
  try {
    predictSeconds = new Map(read(predictFile).map((r) => [r.index, r.seconds]));
  } catch {
    // no separate PREDICT run: the rows' seconds are CERTIFY's
  }
  const seq = new Map(read(seqFile).map((r) => [r.index, r]));
  const both = read(cohenFile)
    .filter((c) => seq.has(c.index))
    .map((c) => [seq.get(c.index), { ...c, seconds: c.seconds - (c.predict ? (predictSeconds.get(c.index) ?? 0) : 0) }]);
  const samples = both.map(([s]) => s.samples);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const changes = new Map(); // radius(seq) − radius(cohen), ±∞ when one side is −∞
  for (const [s, c] of both) {
    const d = radius(s) === radius(c) ? 0 : radius(s) - radius(c);
    changes.set(d, (changes.get(d) ?? 0) + 1);
  }
  const count = (f) => [...changes].filter(([d]) => f(d)).reduce((a, [, k]) => a + k, 0);
  const secs = (rs) => rs.reduce((a, r) => a + r.seconds, 0);
  const accuracy = (rs) => rs.filter((r) => r.correct && r.prediction !== null).length / rs.length;
  return {
    images: both.length,
    fixed,
    meanSamples: Math.round(mean),
    medianSamples: median(samples),
    ratio: +(fixed / mean).toFixed(2),
    seqSeconds: +secs(both.map(([s]) => s)).toFixed(1),
    cohenSeconds: +secs(both.map(([, c]) => c)).toFixed(1),
    lose: count((d) => d < 0),
    gain: count((d) => d > 0),
    same: count((d) => d === 0),
    /** [radius change, images], from the largest loss to the largest gain; 0 = same radius */
    changes: [...changes].sort(([a], [b]) => a - b).map(([d, k]) => [d === -Infinity ? '−∞' : d === Infinity ? '+∞' : d > 0 ? `+${d}` : d < 0 ? `−${-d}` : '0', k]),
    medianSeq: fmtR(medianRadius(both.map(([s]) => s))),
    medianCohen: fmtR(medianRadius(both.map(([, c]) => c))),
    accuracySeq: accuracy(both.map(([s]) => s)),
    accuracyCohen: accuracy(both.map(([, c]) => c)),
    maxSamplesHit: both.filter(([s]) => s.samples >= fixed).length,
  };
}

const ROWS = [
  ['α = 0.05; Cohen n0 1 000 + n 10 000; sequential maxSamples 11 000', 'defaults', 'sequential-table1-k45', 'table1-k45'],
  ['', 'futilityAlpha 0.5', 'sequential-fast-table1-k45', 'table1-k45'],
  ['', 'focusShare 0.8, pilotSamples 64 (selection-informed schedule)', 'sequential-informed-table1-k45', 'table1-k45'],
  ['', 'none: Cohen with seed 1 (what a fresh Cohen run loses)', 'cohen-seed1-table1-k45', 'table1-k45'],
  ["Lee et al.: α = 0.001; Cohen n0 100 + n 100 000; sequential maxSamples 100 100, n0 ≤ 100", 'defaults', 'sequential-table7-ablation-k45', 'table7-ablation-k45'],
  ['', 'futilityAlpha 0.5', 'sequential-fast-table7-ablation-k45', 'table7-ablation-k45'],
  ['', 'focusShare 0.8, pilotSamples 64 (selection-informed schedule)', 'sequential-informed-table7-ablation-k45', 'table7-ablation-k45'],
];

function table() {
  const pct = (x) => `${(100 * x).toFixed(1)}%`;
  const changeCell = (ch) =>
    ch
      .filter(([d]) => d !== '0')
      .map(([d, k]) => `${d}: ${k}`)
      .join(', ') || 'none';
  const out = [
    '| protocol | sequential settings | images | fixed samples | sequential mean samples | median | hit the budget | images losing / gaining radius vs Cohen | radius change (sequential − Cohen): images | median certified robustness Cohen → sequential | CERTIFY accuracy Cohen → sequential | wall time Cohen → sequential |',
    '|---|---|---:|---:|---:|---:|---:|---|---|---|---|---|',
  ];
  for (const [protocol, settings, seq, cohen] of ROWS) {
    if (!existsSync(join(here, 'results', `${seq}.jsonl`))) continue; // a run not made yet
    const c = compare(join(here, 'results', `${seq}.jsonl`), join(here, 'results', `${cohen}.jsonl`));
    out.push(
      `| ${protocol} | ${settings} | ${c.images} | ${c.fixed.toLocaleString('en-US')} | **${c.meanSamples.toLocaleString('en-US')}** (÷${c.ratio.toFixed(2)}) | ${c.medianSamples.toLocaleString('en-US')} | ${c.maxSamplesHit} | ${c.lose} / ${c.gain} | ${changeCell(c.changes)} | ${c.medianCohen} → ${c.medianSeq} | ${pct(c.accuracyCohen)} → ${pct(c.accuracySeq)} | ${c.cohenSeconds.toFixed(0)} s → ${c.seqSeconds.toFixed(0)} s |`,
    );
  }
  return out.join('\n');
}

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (args.length === 2) {
  console.log(JSON.stringify(compare(args[0], args[1])));
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const text = table();
  console.log(text);
  if (process.argv.includes('--write')) {
    writeBetweenMarkers(join(here, '..', 'docs/performance.md'), 'sequential', text);
    console.log('wrote docs/performance.md');
  }
}
