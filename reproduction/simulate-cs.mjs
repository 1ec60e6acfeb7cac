// Issue 23's open idea, measured in simulation: the sequential certifier with its union-bound Clopper–Pearson
// sequence replaced by (a) a one-sided beta-binomial mixture or (b) a betting confidence sequence
// (reproduction/confidence-sequences.mjs), everything else unchanged — the same selection phase (the certifier's
// own), the same checks, the same stopping rules (decided / futility / budget), which spend none of α. Votes are
// synthetic, drawn at each image's Cohen p̂ = nA/n with the seeds of simulate-sequential.mjs (estimation seed 7), so
// the "defaults" row is that script's; floors are floor.mjs's. Prints the table of docs/performance.md.
//   node reproduction/simulate-cs.mjs [--images N] [--write]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SequentialCertifier, ablationBound, checkSchedule, clopperPearsonLower, clopperPearsonUpper, radiusFunction, Rng } from '@ablate/core';
import { floors } from './floor.mjs';
import { BettingLower, mixtureLower } from './confidence-sequences.mjs';
import { writeBetweenMarkers } from '../scripts/write-between-markers.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** Splits k new samples into betting blocks: a new bet every ⌈10 %⌉ of the samples seen (at least 16). */
function blockSizes(seen, k) {
  const out = [];
  let t = seen;
  while (k > 0) {
    const size = Math.min(k, Math.max(16, Math.ceil(0.1 * t)));
    out.push(size);
    t += size;
    k -= size;
  }
  return out;
}

/**
 * One sequential certification with confidence sequence `cs` ('mixture-uniform' | 'mixture-selection' |
 * 'betting'). `sample(num)` returns vote counts; returns { samples, radius, prediction } (radius −1 and
 * prediction null: abstain).
 * U (for "decided") is CP-upper at the default schedule's early level and futility projects to the last check
 * with the same sequence: both only choose when to stop.
 */
export async function certifyWithSequence(sample, bound, { alpha, maxSamples, n0, cs, ratio = 1.5, futilityAlpha = 0.05, cap = 0.75, finalShare = 0 }) {
  const radiusOf = radiusFunction(bound);
  const cert = new SequentialCertifier({ alpha, maxSamples, ...(n0 === undefined ? {} : { n0 }) });
  const { guess, n0: used, hopeless, top } = await cert.select(sample);
  if (hopeless) return { samples: used, radius: -1, prediction: null };
  const budget = maxSamples - used;
  const { counts } = checkSchedule(budget, alpha, { ratio });
  const reference = checkSchedule(budget, alpha); // U's level: the defaults' early checks' level
  const levelU = reference.alphas[0];
  const [a, b] = cs === 'mixture-selection' ? [top + 1, used - top + 1] : [1, 1];
  // finalShare > 0: the sequence runs at (1 − finalShare)·α and a fixed-n Clopper–Pearson bound at the budget at
  // finalShare·α (union bound over the two; the levels are exact binary fractions of α here, 0.5).
  const csAlpha = (1 - finalShare) * alpha;
  const betting = cs === 'betting' ? new BettingLower(csAlpha, cap) : null;
  const last = counts[counts.length - 1];
  const finalLower = (S) => (finalShare > 0 ? clopperPearsonLower(S, last, finalShare * alpha) : 0);
  const lowerAt = (S, n) => Math.max(mixtureLower(S, n, csAlpha, a, b), n === last ? finalLower(S) : 0);
  let nA = 0;
  let n = 0;
  let L = 0;
  let rL = -1;
  for (let j = 0; j < counts.length; j++) {
    const m = counts[j];
    if (betting) {
      for (const k of blockSizes(n, m - n)) {
        const s = (await sample(k, 'estimation'))[guess];
        betting.add(k, s);
        nA += s;
        n += k;
      }
      L = Math.max(L, betting.lower(), n === last ? finalLower(nA) : 0);
    } else {
      nA += (await sample(m - n, 'estimation'))[guess];
      n = m;
      L = Math.max(L, lowerAt(nA, n));
    }
    rL = radiusOf(L);
    if (j === counts.length - 1) break;
    if (rL >= radiusOf(clopperPearsonUpper(nA, n, levelU))) break; // decided
    const rate = clopperPearsonUpper(nA, n, futilityAlpha);
    const projected = Math.min(last, nA + Math.floor(rate * (last - n)));
    let projectedLower;
    if (betting) {
      // the same process continued with the remaining samples voting at `rate`, block by block
      const copy = Object.assign(new BettingLower(csAlpha, cap), { blocks: [...betting.blocks], t: betting.t, S: betting.S });
      let extra = projected - nA;
      for (const k of blockSizes(n, last - n)) {
        const s = Math.min(extra, Math.round((k * (projected - nA)) / (last - n)));
        copy.add(k, s);
        extra -= s;
      }
      projectedLower = Math.max(copy.lower(), finalLower(projected));
    } else projectedLower = lowerAt(projected, last);
    if (radiusOf(Math.max(L, projectedLower)) <= rL) break; // futile
  }
  return { samples: used + n, radius: rL, prediction: rL < 0 ? null : guess };
}

const votes = (p, rng) => async (num) => {
  let a = 0;
  for (let i = 0; i < num; i++) if (rng.float() < p) a++;
  return Uint32Array.from([a, num - a]);
};

const PROTOCOLS = [
  { label: 'α = 0.05 / 11 000, 500 images', cohen: 'table1-k45', alpha: 0.05, maxSamples: 11000 },
  { label: 'Lee: α = 0.001 / 100 100 (n0 ≤ 100), 200 images', cohen: 'table7-ablation-k45', alpha: 0.001, maxSamples: 100100, n0: 100 },
];

const SETTINGS = [
  { label: 'defaults (union-bound Clopper–Pearson, ratio 1.5)', cs: 'union' },
  { label: 'union bound, futilityAlpha 0.2 (the defaults’ trade-off frontier)', cs: 'union', cfg: { futilityAlpha: 0.2 } },
  { label: 'union bound, checks ×1.1', cs: 'union', cfg: { ratio: 1.1 } },
  { label: 'beta-binomial mixture, uniform prior Beta(1, 1)', cs: 'mixture-uniform' },
  { label: 'beta-binomial mixture, prior Beta(t + 1, u − t + 1) from the selection samples', cs: 'mixture-selection' },
  { label: 'beta-binomial mixture, selection prior, checks ×1.1', cs: 'mixture-selection', ratio: 1.1 },
  { label: 'mixture (selection prior) at ½α, checks ×1.1, + Clopper–Pearson at the budget at ½α', cs: 'mixture-selection', ratio: 1.1, finalShare: 0.5 },
  { label: 'betting (WSR PrPl bets, cap 0.75)', cs: 'betting' },
  { label: 'betting, checks ×1.1', cs: 'betting', ratio: 1.1 },
  { label: 'betting at ½α, checks ×1.1, + Clopper–Pearson at the budget at ½α', cs: 'betting', ratio: 1.1, finalShare: 0.5 },
];

async function run(protocol, images) {
  const rows = readFileSync(join(here, 'results', `${protocol.cohen}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).slice(0, images);
  const { floor } = floors(protocol.cohen);
  const floorMean = rows.reduce((s, r) => s + floor.get(r.index), 0) / rows.length;
  const bound = ablationBound(784, 45);
  const radiusOf = radiusFunction(bound);
  const cohenRadius = (r) => (r.prediction === null ? -1 : r.radius);
  const out = [];
  {
    let lose = 0;
    let gain = 0;
    for (const r of rows) {
      const [a] = await votes(r.nA / r.n, new Rng(8, r.index))(r.n);
      const radius = radiusOf(clopperPearsonLower(a, r.n, protocol.alpha));
      if (radius < cohenRadius(r)) lose++;
      if (radius > cohenRadius(r)) gain++;
    }
    out.push({ label: 'a second Cohen run (votes at p̂, seed 8)', mean: rows[0].samples, ratio: rows[0].samples / floorMean, lose, gain });
  }
  for (const s of SETTINGS) {
    let total = 0;
    let lose = 0;
    let gain = 0;
    for (const r of rows) {
      const sample = votes(r.nA / r.n, new Rng(7, r.index));
      let c;
      if (s.cs === 'union') {
        const cert = new SequentialCertifier({ alpha: protocol.alpha, maxSamples: protocol.maxSamples, ...(protocol.n0 ? { n0: protocol.n0 } : {}), ...s.cfg });
        const x = await cert.certify(sample, bound);
        c = { samples: x.samples, radius: x.prediction === null ? -1 : x.radius };
      } else c = await certifyWithSequence(sample, bound, { alpha: protocol.alpha, maxSamples: protocol.maxSamples, n0: protocol.n0, cs: s.cs, ratio: s.ratio, finalShare: s.finalShare });
      total += c.samples;
      if (c.radius < cohenRadius(r)) lose++;
      if (c.radius > cohenRadius(r)) gain++;
    }
    const mean = total / rows.length;
    out.push({ label: s.label, mean, ratio: mean / floorMean, lose, gain });
    process.stderr.write(`${protocol.cohen} ${s.label}: ${Math.round(mean)} ${(mean / floorMean).toFixed(2)} ${lose}/${gain}\n`);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--images');
  const images = i > 0 ? +process.argv[i + 1] : Infinity;
  const results = [];
  for (const p of PROTOCOLS) results.push(await run(p, images));
  const n = (x) => Math.round(x).toLocaleString('en-US');
  const lines = [
    `| sequence (simulated; votes at Cohen's p̂, seed 7) | ${PROTOCOLS.map((p) => `${p.label}: mean samples | ÷ floor | lose / gain vs Cohen`).join(' | ')} |`,
    `|---|${PROTOCOLS.map(() => '---:|---:|---|').join('')}`,
  ];
  results[0].forEach((r, k) => {
    lines.push(`| ${r.label} | ${results.map((res) => `${n(res[k].mean)} | ${res[k].ratio.toFixed(2)}× | ${res[k].lose} / ${res[k].gain}`).join(' | ')} |`);
  });
  const text = lines.join('\n');
  console.log(text);
  if (process.argv.includes('--write')) {
    writeBetweenMarkers(join(here, '..', 'docs/performance.md'), 'sequential-cs', text);
    console.log('wrote docs/performance.md');
  }
}
