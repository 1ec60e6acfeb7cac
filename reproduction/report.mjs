// Writes the generated tables of docs/reproduction.md (Tables 1, 7, 8; L0: ablation vs partitions; patches; Table 2)
// and the README's main-command table from the committed
// reproduction/results/*.jsonl (their .meta.json), reproduction/results/predict/*.jsonl and the model cards:
//   node reproduction/report.mjs          (prints)      node reproduction/report.mjs --write
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, summarize } from '@ablate/cli';
import { writeBetweenMarkers } from '../scripts/write-between-markers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const pct = (x) => `${(100 * x).toFixed(2)}%`;
const hours = (s) => (s >= 3600 ? `${(s / 3600).toFixed(2)} h` : `${(s / 60).toFixed(1)} min`);

/** [name, what, paper accuracy (abstain), paper median] */
const ROWS = [
  ['table1-k20', 'Table 1, k = 20, multichannel', '90.29% (1.81%)', '3'],
  ['table1-k45', 'Table 1, k = 45, multichannel', '96.72% (0.45%)', '8'],
  ['table1-k100', 'Table 1, k = 100, multichannel', '98.75% (0.16%)', '4'],
  ['table8-k45-mean', 'Table 8, k = 45, mean NULL', '96.27% (0.43%)', '7'],
];
const LEE = [
  ['table7-lee-noise', 'Lee et al. noise κ = 0.1 (tight bound), Lee protocol', '4'],
  ['table7-ablation-k45', 'ablation k = 45, Lee protocol', '8'],
  ['table7-lee-noise-k0.2', 'Lee et al. noise κ = 0.2 (superseded choice), Lee protocol', '4'],
];

const resultFile = (name) => join(here, 'results', `${name}.jsonl`);
const predictFile = (name) => join(here, 'results', 'predict', `${name}.jsonl`);
const readJsonl = (file) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
/** The JSON rows of a run ([] when it has not run). */
const readRows = (name) => readJsonl(resultFile(name));
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/**
 * CERTIFY's own wall time of a run: the rows' `seconds`, less PREDICT's where join-predict.mjs added the
 * seconds of a separate `ablate predict` run (reproduction/results/predict/<name>.jsonl) into them.
 */
function certifySeconds(name, include = () => true) {
  const rows = readRows(name).filter((r) => include(r.index));
  const predictSeconds = new Map(readJsonl(predictFile(name)).map((r) => [r.index, r.seconds]));
  return rows.reduce((a, r) => a + r.seconds - (r.predict ? (predictSeconds.get(r.index) ?? 0) : 0), 0);
}

function stats(name, include) {
  const file = resultFile(name);
  if (!existsSync(file)) return undefined;
  const s = summarize(file, { include });
  return { ...s, seconds: certifySeconds(name, include) };
}

/**
 * PREDICT for a run: from the rows themselves when they carry it (`certify --predict`, or joined by
 * join-predict.mjs), else from reproduction/results/predict/<name>.jsonl (`ablate predict`, the same substream
 * and sample count), which may cover only the first images. Returns the images covered, PREDICT's and CERTIFY's
 * accuracy on exactly those images, and the images CERTIFY abstains on that PREDICT classifies correctly.
 */
function predictStats(name, include = () => true) {
  const certifyRows = readRows(name).filter((r) => include(r.index));
  let predicted = new Map(certifyRows.filter((r) => r.predict).map((r) => [r.index, r.predict]));
  if (predicted.size === 0) predicted = new Map(readJsonl(predictFile(name)).filter((r) => include(r.index)).map((r) => [r.index, r]));
  const rows = certifyRows.filter((r) => predicted.has(r.index));
  if (rows.length === 0) return undefined;
  const n = rows.length;
  const p = (r) => predicted.get(r.index);
  return {
    count: n,
    total: certifyRows.length,
    predictN: p(rows[0]).n,
    accuracy: rows.filter((r) => p(r).prediction !== null && p(r).prediction === r.label).length / n,
    abstainRate: rows.filter((r) => p(r).prediction === null).length / n,
    certifyAccuracy: rows.filter((r) => r.correct && r.prediction !== null).length / n,
    certifyAbstainRate: rows.filter((r) => r.prediction === null).length / n,
    certifyAbstainPredictCorrect: rows.filter((r) => r.prediction === null && p(r).prediction === r.label).length,
    predictWrong: rows.filter((r) => p(r).prediction !== null && p(r).prediction !== r.label).length,
  };
}

/** Quantiles of the CERTIFY estimate p̂A = nA/n (votes for ĉA) over a run's images. */
function pAQuantiles(name) {
  const v = readRows(name).map((r) => r.nA / r.n).sort((a, b) => a - b);
  const q = (f) => v[Math.min(v.length - 1, Math.floor(f * v.length))];
  return { q10: q(0.1), q25: q(0.25), q50: q(0.5), half: v.filter((x) => x > 0.5).length / v.length };
}

const model = (name) => {
  const cfg = readJson(join(here, 'configs', `${name}.json`));
  return readJson(join(here, 'configs', cfg.classifier.model.replace(/\.onnx$/, '.json')));
};

/** PREDICT's accuracy (abstained); withSe adds ± one standard error over the sampled test images. */
const predictCell = (ps, withSe = false) =>
  ps
    ? `${pct(ps.accuracy)}${withSe ? ` ± ${pct(Math.sqrt((ps.accuracy * (1 - ps.accuracy)) / ps.count))}` : ''} (${pct(ps.abstainRate)})${ps.count < ps.total ? ` on ${ps.count}` : ''}`
    : 'not run yet';
const certifyCell = (ps, s) => (ps ? `${pct(ps.certifyAccuracy)} (${pct(ps.certifyAbstainRate)})${ps.count < ps.total ? ` on ${ps.count}; ${pct(s.accuracy)} (${pct(s.abstainRate)}) on ${s.count}` : ''}` : `${pct(s.certifyAccuracy ?? s.accuracy)} (${pct(s.certifyAbstainRate ?? s.abstainRate)})`);

const out = [];
out.push('| run | images | classification accuracy, PREDICT ± SE (abstained) | paper | CERTIFY accuracy (abstained) | median certified robustness | paper | certify wall time |');
out.push('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const [name, what, paperAcc, paperMedian] of ROWS) {
  const s = stats(name);
  if (!s) {
    out.push(`| ${what} | not run yet | | ${paperAcc} | | | ${paperMedian} | |`);
    continue;
  }
  const ps = predictStats(name);
  out.push(`| ${what} | ${s.count} | ${predictCell(ps, true)} | ${paperAcc} | ${certifyCell(ps, s)} | ${s.medianCertifiedRadius ?? 'N/A'} | ${paperMedian} | ${hours(s.seconds)} |`);
}
out.push('');
out.push("Table 7 (MNIST row), Lee et al.'s protocol n0 = 100, n = 100 000, α = 0.001 (PREDICT: 10 000 samples, α = 0.001):");
out.push('');
out.push('| run | images | classification accuracy, PREDICT ± SE (abstained) | CERTIFY accuracy (abstained) | median certified robustness | unit | paper | certify wall time |');
out.push('|---|---:|---:|---:|---:|---|---:|---:|');
for (const [name, what, paperMedian] of LEE) {
  const s = stats(name);
  if (!s) {
    out.push(`| ${what} | not run yet | | | | | ${paperMedian} | |`);
    continue;
  }
  const ps = predictStats(name);
  const predicted = ps ? predictCell(ps, true) : name === 'table7-lee-noise-k0.2' ? 'not run (superseded model)' : 'not run yet';
  out.push(`| ${what} | ${s.count} | ${predicted} | ${certifyCell(ps, s)} | ${s.medianCertifiedRadius ?? 'N/A'} | ${s.unit} | ${paperMedian} | ${hours(s.seconds)} |`);
}
// Footnote 2: the same k = 45 model under both protocols, on the images both runs have certified.
const i7 = new Set(readRows('table7-ablation-k45').map((r) => r.index));
const common = new Set(readRows('table1-k45').map((r) => r.index).filter((i) => i7.has(i)));
if (common.size) {
  const t1 = stats('table1-k45', (i) => common.has(i));
  const t7 = stats('table7-ablation-k45', (i) => common.has(i));
  out.push('');
  out.push(`Footnote 2 (ablation under Lee's protocol): on the same ${common.size} images, k = 45 has median certified robustness ${t1.medianCertifiedRadius ?? 'N/A'} with n0 = 1 000, n = 10 000, α = 0.05 and ${t7.medianCertifiedRadius ?? 'N/A'} with n0 = 100, n = 100 000, α = 0.001 (CERTIFY accuracy ${pct(t1.certifyAccuracy ?? t1.accuracy)} vs ${pct(t7.certifyAccuracy ?? t7.accuracy)}).`);
}
out.push('');
out.push('Why the rows differ (measured): the base classifier\'s accuracy on perturbed test images (model card), the CERTIFY estimate p̂A = nA/n over all images (quantiles, and the fraction above ½), and, on the images with PREDICT, how many CERTIFY abstains on while PREDICT classifies them correctly, and how many PREDICT gets wrong.');
out.push('');
out.push('| run | base accuracy under perturbation | p̂A 10 % / 25 % / 50 % quantile | p̂A > ½ | images with PREDICT | CERTIFY abstains, PREDICT correct | PREDICT wrong |');
out.push('|---|---:|---:|---:|---:|---:|---:|');
for (const [name, what] of [...ROWS, ...LEE]) {
  if (!existsSync(resultFile(name))) continue;
  const card = model(name);
  const q = pAQuantiles(name);
  const ps = predictStats(name);
  const f = (x) => x.toFixed(3);
  out.push(`| ${what} | ${pct(card.baseAccuracyPerturbedTest)} | ${f(q.q10)} / ${f(q.q25)} / ${f(q.q50)} | ${pct(q.half)} | ${ps ? ps.count : 0} | ${ps ? ps.certifyAbstainPredictCorrect : '–'} | ${ps ? ps.predictWrong : '–'} |`);
}

// The median gap, measured: certified accuracy at the paper's median (the paper's median needs ≥ 50 %), with its
// standard error over the sampled test images, and the median on slices of the images.
out.push('');
out.push("How far each median is from the paper's: certified accuracy at the paper's median radius (the paper's median needs ≥ 50 % of the images certified at that radius; ± one standard error over the sampled test images, √(a(1 − a)/N)), how many more images that would take, and the median on slices of the same images:");
out.push('');
out.push("| run | median (ours / paper) | certified accuracy at the paper's median | images short of 50 % | median on images 0–99 / 0–199 / 200–499 |");
out.push('|---|---:|---:|---:|---:|');
for (const [name, what, ...rest] of [...ROWS, ...LEE]) {
  const paperMedian = Number(rest.at(-1));
  const s = stats(name);
  if (!s) continue;
  const a = s.certifiedAccuracy[String(paperMedian)] ?? 0;
  const se = Math.sqrt((a * (1 - a)) / s.count);
  const short = Math.max(0, Math.ceil(s.count / 2 - a * s.count - 1e-9));
  const slice = (lo, hi) => {
    if (!readRows(name).some((r) => r.index >= lo && r.index < hi)) return '–';
    return String(stats(name, (i) => i >= lo && i < hi).medianCertifiedRadius ?? '−∞');
  };
  out.push(`| ${what} | ${s.medianCertifiedRadius ?? '−∞'} / ${paperMedian} | ${pct(a)} ± ${pct(se)} | ${short} of ${s.count} | ${slice(0, 100)} / ${slice(0, 200)} / ${slice(200, 500)} |`);
}

/** The largest radius `ablate radius` certifies at pA_lower = p (in-process). */
async function radiusAt(flags, p) {
  let text = '';
  const io = { stdout: { write: (s) => (text += s) }, stderr: { write: () => true } };
  const code = await main(['radius', ...flags, '--d', '784', '--p-lower', String(p), '--json'], io);
  if (code !== 0) throw new Error(`ablate radius ${flags.join(' ')} failed`);
  return JSON.parse(text).radius;
}
/** The smallest pA_lower (to 1e-12) that certifies radius r: bisection on `ablate radius`. */
async function threshold(flags, r) {
  let lo = 0.5;
  let hi = 1 - 1e-15;
  if ((await radiusAt(flags, hi)) < r) return null;
  while (hi - lo > 1e-12) {
    const mid = (lo + hi) / 2;
    if ((await radiusAt(flags, mid)) >= r) hi = mid;
    else lo = mid;
  }
  return hi;
}
const SCHEMES = [
  ["Lee et al.'s MNIST setting (binarized: 2 levels, keep 0.8)", ['--perturbation', 'lee-noise', '--levels', '2', '--keep-prob', '0.8']],
  ['ours, Lee noise (256 levels, κ = 0.1)', ['--perturbation', 'lee-noise', '--levels', '256', '--keep-prob', '0.1']],
  ['ours, Lee noise (256 levels, κ = 0.2)', ['--perturbation', 'lee-noise', '--levels', '256', '--keep-prob', '0.2']],
  ['ours, ablation k = 45', ['--perturbation', 'ablation', '--retain', '45']],
];
out.push('');
out.push('pA_lower needed for radius r (`ablate radius`, d = 784; the first row equals the thresholds Lee et al. publish for their MNIST setting):');
out.push('');
out.push('| scheme | r = 1 | r = 2 | r = 3 | r = 4 | r = 8 |');
out.push('|---|---:|---:|---:|---:|---:|');
for (const [what, flags] of SCHEMES) {
  const cells = [];
  for (const r of [1, 2, 3, 4, 8]) {
    const t = await threshold(flags, r);
    cells.push(t === null ? '> 1' : t.toFixed(6));
  }
  out.push(`| ${what} | ${cells.join(' | ')} |`);
}
const text = out.join('\n');

// ---- L0 on MNIST: randomized ablation (Cohen, sequential) vs feature partitions (vote-gap) ----
const sidecar = (name) => readJson(`${resultFile(name)}.meta.json`);
const modelName = (name) => `\`${sidecar(name).config.classifier.model.split('/').pop().replace(/\.onnx$/, '')}\``;
/** Mean base-classifier calls of the certificate alone (a row's `samples`; PREDICT's are not in it). */
const certificateCalls = (name) => {
  const rows = readRows(name);
  return rows.reduce((a, r) => a + r.samples, 0) / rows.length;
};
const fmtInt = (x) => Math.round(x).toLocaleString('en-US');
const wrong = (name) => {
  const c = sidecar(name).config.certifier;
  return c.type === 'vote-gap' ? 'no (α = 0)' : `yes, with probability ≤ α = ${c.alpha}`;
};
const perImage = (s) => `${hours(s.seconds)} (${(s.seconds / s.count).toFixed(3)} s/image)`;
const L0 = [
  ['table1-k20', 'randomized ablation k = 20, Cohen (n0 1 000 + n 10 000)', ''],
  ['table1-k45', 'randomized ablation k = 45, Cohen (n0 1 000 + n 10 000)', ''],
  ['sequential-table1-k45', 'randomized ablation k = 45, sequential (defaults, maxSamples 11 000)', ''],
  ['sequential-fast-table1-k45', 'randomized ablation k = 45, sequential (futilityAlpha 0.5, maxSamples 11 000)', ''],
  ['l0-partition-k20-T39', 'feature partitions T = 39, vote-gap', ' (random-ablation model)'],
  ['l0-partition-k45-T17', 'feature partitions T = 17, vote-gap', ' (random-ablation model)'],
  ['l0-partition-trained-T39', 'feature partitions T = 39, vote-gap', ' (partition fine-tune, short CPU run)'],
];
/** A generated table of runs ([name, what, note]): one row per committed run, "not run yet" for the others. */
const runTable = (header, runs, row) =>
  [...header, ...runs.map(([name, what, note]) => {
    const s = stats(name);
    return s ? row(name, what, note, s) : `| ${what} | | not run yet | | | | | | |`;
  })].join('\n');

const l0Text = runTable(
  [
    '| scheme | model | images | classification accuracy (abstained): PREDICT, or the vote | CERTIFY accuracy (abstained) | median certified robustness (pixels) | model calls per certificate (mean) | certify wall time | can a certificate be wrong? |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
  ],
  L0,
  (name, what, note, s) => {
    const det = sidecar(name).config.certifier.type === 'vote-gap';
    const ps = det ? undefined : predictStats(name);
    const acc = det ? `${pct(s.certifyAccuracy)} (${pct(s.certifyAbstainRate)})` : ps ? predictCell(ps) : 'PREDICT not run';
    return `| ${what} | ${modelName(name)}${note} | ${s.count} | ${acc} | ${pct(s.certifyAccuracy)} (${pct(s.certifyAbstainRate)}) | ${s.medianCertifiedRadius ?? '−∞'} | ${fmtInt(certificateCalls(name))} | ${perImage(s)} | ${wrong(name)} |`;
  },
);

// ---- Patches: column / block bands with vote-gap ----
const PATCH = [
  ['patch-column4-k45', 'column bands b = 4, vote-gap', ' (random ablation, not band-trained)'],
  ['patch-column4-k100', 'column bands b = 4, vote-gap', ' (random ablation, not band-trained)'],
  ['patch-column4-trained', 'column bands b = 4, vote-gap', ' (band fine-tune of k = 100, short CPU run)'],
  ['patch-block4-k45', 'block smoothing b = 4, vote-gap', ' (random ablation, not block-trained)'],
];
const patchText = runTable(
  [
    '| scheme | model | images | clean accuracy (smoothed) | certified accuracy, 5×5 patch | median certified patch | model calls per image | certify wall time | can a certificate be wrong? |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
  ],
  PATCH,
  (name, what, note, s) => {
    const m = s.medianCertifiedRadius;
    return `| ${what} | ${modelName(name)}${note} | ${s.count} | ${pct(s.certifyAccuracy)} | ${pct(s.certifiedAccuracy['5'] ?? 0)} | ${m === null || m === undefined ? '— (−∞)' : m === 0 ? '0 (none)' : `${m}×${m}`} | ${fmtInt(certificateCalls(name))} | ${perImage(s)} | ${wrong(name)} |`;
  },
);

// ---- Table 2: the Pointwise attack ----
// A smoothed row's search oracle only guides the search; every example it reports passed a fresh PREDICT at the
// paper's n (the sidecar's `confirmation`, rows' `confirmed`). The undefended rows' oracle is deterministic.
const TABLE2 = [
  ['table2-k45', 'k = 45 smoothed, multichannel', '31 (275 images, 10 restarts, n = 10 000 per query)'],
  ['table2-undefended', 'undefended CNN (argmax)', "9 (Schott et al. 2019's CNN, quoted by the paper)"],
  ['table2-undefended-init10', 'undefended CNN (argmax), 10 salt-and-pepper repetitions per restart', "9 (Schott et al. 2019's CNN, quoted by the paper)"],
];
const t2 = [
  '| model | images | restarts | search oracle (one query) | each reported example confirmed by | median adversarial magnitude (pixels) | paper | median where the search ended (unconfirmed) | no adversarial found / misclassified unattacked | certified median on the same images (ours; paper 8) | mean queries per image | mean base-classifier samples per image (confirmations included) | attack wall time |',
  '|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
];
const t2Notes = [];
/** The paper's median convention (summarize's): the ⌊N/2⌋-th smallest with null = +∞. */
const upperMedian = (values) => {
  const m = values.map((v) => (v === null ? Infinity : v)).sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return Number.isFinite(m) ? m : '+∞';
};
for (const [name, what, paper] of TABLE2) {
  const rows = readRows(name);
  if (rows.length === 0) {
    t2.push(`| ${what} | not run yet | | | | | ${paper} | | | | | | |`);
    continue;
  }
  const meta = sidecar(name);
  const a = summarize(resultFile(name)).attack;
  const idx = new Set(rows.map((r) => r.index));
  const cert = stats('table1-k45', (i) => idx.has(i));
  const certCell = name.startsWith('table2-undefended') ? '— (not smoothed)' : cert && cert.count === rows.length ? String(cert.medianCertifiedRadius ?? '−∞') : 'not certified';
  const restarts = Math.max(...rows.map((r) => r.restarts)); // 0 for images misclassified unattacked
  const mean = (f) => rows.reduce((x, r) => x + f(r), 0) / rows.length;
  const secs = rows.reduce((x, r) => x + r.seconds, 0);
  const confirmed = a.confirmation !== undefined;
  const confirmCell = confirmed ? meta.config.confirmation : '— (deterministic oracle: a query is its own confirmation)';
  const searchCell = confirmed ? String(upperMedian(rows.map((r) => r.searchMagnitude))) : '— (same)';
  t2.push(`| ${what} | ${rows.length} (${rows[0].index}–${rows[rows.length - 1].index}) | ${restarts} | ${meta.config.decision ?? meta.config.target} | ${confirmCell} | ${a.medianAdversarialMagnitude ?? '+∞'} | ${paper} | ${searchCell} | ${a.notFound} / ${a.misclassified} | ${certCell} | ${fmtInt(mean((r) => r.queries))} | ${fmtInt(mean((r) => r.samples))} | ${hours(secs)} (${(secs / rows.length).toFixed(1)} s/image) |`);
  if (confirmed) {
    const c = a.confirmation;
    const n = Number(/fixed n = (\d+)/.exec(meta.config.confirmation)[1]); // every confirmation of a run has this n
    const abstained = rows.filter((r) => r.confirmed && r.confirmed.prediction === null).length;
    t2Notes.push(
      `${what}: the confirming PREDICT (n = ${fmtInt(n)}) rejected the example where the search ended on ${c.walkedBack + c.noneConfirmed} of ${rows.length} images; ` +
        `on ${c.walkedBack} of them the walk-back along the search's path found a confirmed one, on ${c.noneConfirmed} none (+∞). ` +
        `Of the ${c.confirmed} confirmed examples, PREDICT abstained on ${abstained} and misclassified ${c.confirmed - abstained}. ` +
        `${mean((r) => r.confirmations).toFixed(1)} confirmations per image (${pct(rows.reduce((x, r) => x + r.confirmations * n, 0) / rows.reduce((x, r) => x + r.samples, 0))} of the samples).`,
    );
    // reproduction/recheck-table2.mjs: one more independent PREDICT on each reported example (when it covers them all)
    const recheck = readJsonl(join(here, 'results', `${name}-recheck.jsonl`));
    const reported = rows.filter((r) => r.magnitude !== null && r.magnitude > 0);
    if (recheck.length && recheck.length === reported.length && recheck.every((x, i) => x.index === reported[i].index && x.magnitude === reported[i].magnitude)) {
      const correct = recheck.filter((x) => x.prediction === x.label);
      const abst = recheck.filter((x) => x.prediction === null).length;
      const p = correct.map((x) => x.pValue);
      t2Notes.push(
        `A second independent PREDICT (n = ${fmtInt(recheck[0].n)}, seed 7; \`node reproduction/recheck-table2.mjs\`) on the ${recheck.length} reported examples: ` +
          `abstained on ${abst}, misclassified ${recheck.length - abst - correct.length}, classified ${correct.length} correctly` +
          `${correct.length ? ` (p-values ${Math.min(...p).toPrecision(2)}–${Math.max(...p).toPrecision(2)})` : ''}.`,
      );
    }
  }
}
for (const note of t2Notes) t2.push('', note);
// The undefended row's gap, measured: the same images attacked with 1 and with 10 salt-and-pepper repetitions.
{
  const init10 = readRows('table2-undefended-init10');
  if (init10.length) {
    const idx = new Set(init10.map((r) => r.index));
    const median = (name) => summarize(resultFile(name), { include: (i) => idx.has(i) }).attack.medianAdversarialMagnitude;
    const mean = (rows, f) => rows.reduce((x, r) => x + f(r), 0) / rows.length;
    const base = readRows('table2-undefended').filter((r) => idx.has(r.index));
    const better = init10.filter((r) => r.magnitude < base.find((b) => b.index === r.index).magnitude).length;
    const worse = init10.filter((r) => r.magnitude > base.find((b) => b.index === r.index).magnitude).length;
    t2.push('');
    t2.push(`On the ${init10.length} images both undefended runs cover (${init10[0].index}–${init10.at(-1).index}): median adversarial magnitude ${median('table2-undefended')} with 1 salt-and-pepper repetition per restart (our default) and ${median('table2-undefended-init10')} with 10 (foolbox 2's default); 10 repetitions find a smaller example on ${better} images and a larger one on ${worse}, at ${fmtInt(mean(init10, (r) => r.queries))} instead of ${fmtInt(mean(base, (r) => r.queries))} queries per image.`);
  }
}
const table2Text = t2.join('\n');

// README: the main command's table (`pnpm mnist`: k = 45, test images 0–99, the config of examples/mnist-onnx,
// which is table1-k45's; CERTIFY rows of a run depend only on config and seed, PREDICT's likewise).
const readmeConfig = readJson(join(root, 'examples/mnist-onnx/config.json'));
const t1Config = readJson(join(here, 'configs/table1-k45.json'));
const settings = ({ $schema, ...c }) => JSON.stringify(c); // `$schema` is for editors only
if (settings(readmeConfig) !== settings(t1Config)) throw new Error('examples/mnist-onnx/config.json and reproduction/configs/table1-k45.json differ: the README table cannot be taken from table1-k45');
const first100 = (i) => i < 100;
const rs = stats('table1-k45', first100);
const rp = predictStats('table1-k45', first100);
const readme = [
  '| | images | classification accuracy, PREDICT (abstained) | CERTIFY accuracy (abstained) | median certified robustness |',
  '|---|---:|---:|---:|---:|',
  `| this repository's k = 45 model (260 epochs) | ${rs.count} | ${predictCell(rp)} | ${pct(rs.certifyAccuracy ?? rs.accuracy)} (${pct(rs.certifyAbstainRate ?? rs.abstainRate)}) | ${rs.medianCertifiedRadius ?? 'N/A'} |`,
  '| paper, Table 1 (400 epochs in the authors’ code) | 10 000 | 96.72% (0.45%) | not reported | 8 |',
].join('\n');

console.log(text);
console.log(`\nL0:\n${l0Text}\n\nPatches:\n${patchText}\n\nTable 2:\n${table2Text}`);
console.log(`\nREADME:\n${readme}`);
if (process.argv.includes('--write')) {
  const doc = join(root, 'docs/reproduction.md');
  writeBetweenMarkers(doc, 'results', text);
  writeBetweenMarkers(doc, 'l0', l0Text);
  writeBetweenMarkers(doc, 'patch', patchText);
  writeBetweenMarkers(doc, 'table2', table2Text);
  writeBetweenMarkers(join(root, 'README.md'), 'readme-table', readme);
  console.log('wrote docs/reproduction.md and README.md');
}
