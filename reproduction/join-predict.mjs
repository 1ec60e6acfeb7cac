// Joins `ablate predict` rows into `ablate certify` rows: the result is what `ablate certify --predict` writes
// (same config and seed), except `seconds`, which becomes the sum of both runs' seconds.
// Why this is exact: CERTIFY draws from substream 0 of each image's random stream whether or not --predict is
// given, and `ablate predict` draws from the PREDICT substream with the same sample count and α that
// `certify --predict` uses (packages/core/src/engine/smoothed-classifier.ts). The CLI test
// "adds PREDICT from its own samples" checks this on real images, and docs/reproduction.md records a spot check.
//
//   node reproduction/join-predict.mjs CERTIFY.jsonl PREDICT.jsonl [--out JOINED.jsonl]
//     joins the images present in both files (stdout, or --out with its .meta.json sidecar)
//   node reproduction/join-predict.mjs --all
//     for each reproduction/results/<name>.jsonl whose reproduction/results/predict/<name>.jsonl covers every
//     image, rewrites <name>.jsonl and its sidecar in place as `certify --predict` would have written them
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const readRows = (file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
const readMeta = (file) => JSON.parse(readFileSync(`${file}.meta.json`, 'utf8'));

/** The settings that decide the samples (what a resume compares), without the PREDICT count. */
function samplingConfig(config) {
  const { predict, batchSize, ...rest } = config;
  const { batchSize: b, executionProviders, backends, ...classifier } = rest.classifier;
  return JSON.stringify({ ...rest, classifier });
}

/** Base-classifier evaluations of a fixed-n certifier (cohen, lecuyer): n0 + n. */
function fixedSamples(config) {
  const { type, n0, n } = config.certifier;
  if ((type !== 'cohen' && type !== 'lecuyer') || !Number.isInteger(n0) || !Number.isInteger(n)) throw new Error(`cannot derive samples for a ${type} certifier`);
  return n0 + n;
}

/**
 * The joined rows and sidecar, for the images present in both files (in the certify file's order).
 * Throws when the two runs do not share dataset, perturbation, encoder, model, certifier and seed.
 */
export function joinPredict(certifyFile, predictFile) {
  const cm = readMeta(certifyFile);
  const pm = readMeta(predictFile);
  if (cm.command !== 'certify' || pm.command !== 'predict') throw new Error(`expected a certify and a predict file, got ${cm.command} and ${pm.command}`);
  if (cm.config.predict) throw new Error(`${certifyFile} already carries PREDICT`);
  if (samplingConfig(cm.config) !== samplingConfig(pm.config)) throw new Error(`${certifyFile} and ${predictFile} were made with different configs`);
  const predicted = new Map(readRows(predictFile).map((r) => [r.index, r]));
  const rows = [];
  for (const c of readRows(certifyFile)) {
    const p = predicted.get(c.index);
    if (!p) continue;
    if (p.label !== c.label) throw new Error(`image ${c.index}: labels differ (${c.label} vs ${p.label})`);
    const { seconds, ...rest } = c;
    // Rows written before certificates reported `samples` (n0 + n for the fixed-n certifiers) gain it where
    // `certify` writes it now, right after `n`.
    if (!('samples' in rest)) rest.samples = fixedSamples(cm.config);
    rows.push({ ...rest, predict: { prediction: p.prediction, pValue: p.pValue, nA: p.nA, nB: p.nB, n: p.n }, seconds: Math.round((seconds + p.seconds) * 1000) / 1000 });
  }
  // The sidecar `certify --predict` writes (packages/cli/src/commands/run-dataset.ts): the certify run's, with the
  // PREDICT count in its config and `predict` among the row keys. A certify sidecar of an older ablate (no format,
  // model fingerprint, row keys or dataset size) takes them from the predict run's sidecar, which was written for
  // the same model file and dataset (the configs were compared above).
  const certifyKeys = cm.rowKeys ?? ['index', 'label', 'prediction', 'radius', 'correct', 'pLower', 'nA', 'n', 'samples', 'seconds'];
  const meta = {
    format: cm.format ?? pm.format,
    version: cm.version ?? pm.version,
    command: 'certify',
    perturbation: cm.perturbation,
    unit: cm.unit,
    config: { ...cm.config, predict: { n: pm.config.predict.n } },
    model: cm.model ?? pm.model,
    rowKeys: [...certifyKeys.filter((k) => k !== 'seconds'), 'predict', 'seconds'],
    datasetSize: cm.datasetSize ?? pm.datasetSize,
    started: cm.started,
  };
  return { rows, meta, certifyCount: readRows(certifyFile).length };
}

function write(file, { rows, meta }) {
  writeFileSync(`${file}.tmp`, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  writeFileSync(`${file}.meta.json.tmp`, `${JSON.stringify(meta, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  renameSync(`${file}.meta.json.tmp`, `${file}.meta.json`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  if (args[0] === '--all') {
    const results = join(dirname(fileURLToPath(import.meta.url)), 'results');
    for (const name of ['table1-k20', 'table1-k45', 'table1-k100', 'table8-k45-mean', 'table7-ablation-k45', 'table7-lee-noise', 'table7-lee-noise-k0.2']) {
      const certify = join(results, `${name}.jsonl`);
      const predict = join(results, 'predict', `${name}.jsonl`);
      if (!existsSync(predict)) continue;
      if (readMeta(certify).config.predict) {
        console.log(`${name}: already joined`);
        continue;
      }
      const joined = joinPredict(certify, predict);
      if (joined.rows.length < joined.certifyCount) {
        console.log(`${name}: PREDICT covers ${joined.rows.length} of ${joined.certifyCount} images; left as it is`);
        continue;
      }
      write(certify, joined);
      console.log(`${name}: joined ${joined.rows.length} images`);
    }
  } else {
    const [certify, predict] = args;
    if (!certify || !predict) {
      console.error('usage: node reproduction/join-predict.mjs CERTIFY.jsonl PREDICT.jsonl [--out JOINED.jsonl] | --all');
      process.exit(2);
    }
    const joined = joinPredict(certify, predict);
    const o = args.indexOf('--out');
    if (o >= 0) write(args[o + 1], joined);
    else process.stdout.write(joined.rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
}
