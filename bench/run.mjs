// pnpm bench: throughput of the backends on the paper's MNIST CNN, the framework overhead of certify over a bare
// InferenceSession.run, and the cost of sampling and of the radius searches. Prints a Markdown report; with
// --write it also replaces the generated section of docs/performance.md.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { writeBetweenMarkers } from '../scripts/write-between-markers.mjs';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import {
  AblationPerturbation, CohenCertifier, SequentialCertifier, LeeNoisePerturbation, MultichannelEncoder, IdentityEncoder, PerturbedBatch, Rng,
  SmoothedClassifier, ablationDelta, leeNoiseBound, maxCertifiedRadius,
} from '@ablate/core';
import { OnnxClassifier } from '@ablate/backend-onnx';
import { TfjsClassifier } from '@ablate/backend-tfjs';
import { loadMnist } from '@ablate/datasets';
import { cnnWeights, paperCnn, writeOnnxCnn, writeTfjsCnn } from '@ablate/testing';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
// --sequential-only: just the sequential-certification table; with --write it replaces the sequential-bench
// section of docs/performance.md (a full --write replaces the bench section, which includes the same table)
const sequentialOnly = args.has('--sequential-only');
// --import-only: just the import-time and bundle-size table (seconds, no model); with --write it replaces the
// import-bench section of docs/performance.md (a full run prints it too, and writes it there as well)
const importOnly = args.has('--import-only');
const lines = [];
const log = (s = '') => {
  lines.push(s);
  console.log(s);
};
const time = async (fn) => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};

// ---- import time and bundle sizes of @ablate/core (goals: import < 0.3 s; the math entry < 50 KB minified) ----
async function importAndBundle() {
  const { build } = await import('esbuild');
  const { gzipSync } = await import('node:zlib');
  const { execFileSync } = await import('node:child_process');
  const { statSync } = await import('node:fs');
  const cwd = join(root, 'bench'); // resolves @ablate/core like an app that depends on it (the built dist)
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const runs = quick ? 3 : 9;
  /** Median over fresh processes of (a) the whole `node -e` wall time and (b) the import alone, timed inside. */
  const cold = (code) => {
    const walls = [];
    const inner = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', `const t = performance.now(); ${code}; console.log(performance.now() - t);`], { cwd, encoding: 'utf8' });
      walls.push((performance.now() - t0) / 1000);
      inner.push(Number(out.trim().split('\n').pop()) / 1000);
    }
    return { wall: median(walls), inner: median(inner) };
  };
  const baseline = cold('void 0');
  const rows = [
    ["`import('@ablate/core')`", cold("await import('@ablate/core')")],
    ["`import('@ablate/core/math')`", cold("await import('@ablate/core/math')")],
    ["`require('@ablate/core')` (CommonJS)", cold("(await import('node:module')).createRequire(process.cwd() + '/')('@ablate/core')")],
    [
      "`import('@ablate/core')` + first `createContainer` (loads inversify)",
      cold(
        "const c = await import('@ablate/core'); const rt = await c.createContainer({ perturbation: { type: 'ablation', retain: 3 }, encoder: { type: 'multichannel' }, classifier: { type: 'f' }, certifier: { type: 'cohen' } }, { plugins: [{ kind: 'classifier', type: 'f', description: '', schema: {}, create: () => new c.FunctionClassifier({ numClasses: 2, predict: () => 1 }) }] }); await rt.dispose()",
      ),
    ],
  ];
  log('## Import time and bundle size of @ablate/core');
  log();
  log(`Median of ${runs} fresh Node processes (OS file cache warm); "import" is timed inside the process, "process" is the whole \`node -e\` (Node alone: ${baseline.wall.toFixed(3)} s). Goal: import < 0.3 s.`);
  log();
  log('| what | import (s) | process (s) |');
  log('|---|---:|---:|');
  for (const [name, t] of rows) log(`| ${name} | ${t.inner.toFixed(3)} | ${t.wall.toFixed(3)} |`);
  log();
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  const bundle = async (contents) => {
    const r = await build({ stdin: { contents, resolveDir: cwd, loader: 'js' }, bundle: true, minify: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent' });
    const code = r.outputFiles[0].contents;
    const inputs = Object.entries(Object.values(r.metafile.outputs)[0].inputs); // the modules kept in the output
    return { size: code.length, gzip: gzipSync(code).length, files: inputs.length, stdlib: inputs.filter(([i]) => i.includes('@stdlib')).reduce((a, [, v]) => a + v.bytesInOutput, 0) };
  };
  log('Browser bundles (esbuild, `--bundle --minify --platform=browser`, everything inlined; goal for the math entry: < 50 KB):');
  log();
  log('| bundle | minified | gzip | modules in it | of which from @stdlib (minified) |');
  log('|---|---:|---:|---:|---:|');
  for (const [name, contents] of [
    ["`export * from '@ablate/core'`", "export * from '@ablate/core';"],
    ["`export * from '@ablate/core/math'`", "export * from '@ablate/core/math';"],
    ["`{ ablationBound, maxCertifiedRadius }` from the math entry", "import { ablationBound, maxCertifiedRadius } from '@ablate/core/math'; console.log(maxCertifiedRadius({ bound: ablationBound(784, 45), pLower: 0.9997 }));"],
    ["`{ ablationDelta }` from the math entry", "import { ablationDelta } from '@ablate/core/math'; console.log(ablationDelta(784, 45, 8));"],
    ["`{ clopperPearsonLower }` from the math entry (@stdlib's beta quantile)", "import { clopperPearsonLower } from '@ablate/core/math'; console.log(clopperPearsonLower(99, 100, 0.001));"],
  ]) {
    const b = await bundle(contents);
    log(`| ${name} | ${kb(b.size)} | ${kb(b.gzip)} | ${b.files} | ${kb(b.stdlib)} |`);
  }
  const dist = join(root, 'packages/core/dist');
  const files = ['index.js', 'index.cjs', 'math.js', 'math.cjs'];
  log();
  log(`Built files (packages/core/dist, unminified; ESM is one file per module, CommonJS two entries and a shared chunk): ${files.map((f) => `${f} ${kb(statSync(join(dist, f)).size)}`).join(', ')}.`);
  log();
}

if (importOnly) {
  const from = lines.length;
  log(`Machine: ${os.cpus()[0].model}, ${os.cpus().length} cores; Node ${process.version}. Date: ${new Date().toISOString().slice(0, 10)}; load average (1 min) before: ${os.loadavg()[0].toFixed(1)}.`);
  log();
  await importAndBundle();
  if (args.has('--write')) {
    writeBetweenMarkers(join(root, 'docs/performance.md'), 'import-bench', lines.slice(from).filter((l) => !l.startsWith('## ')).join('\n').replace(/\n{3,}/g, '\n\n').trim());
    console.log('wrote the import-bench section of docs/performance.md');
  }
  process.exit(0);
}

const mnist = loadMnist('test');
const image = mnist.get(0).image;
const spec = paperCnn(2);
const weights = cnnWeights(spec, 0);
const trained = join(root, 'models/mnist-k45-multichannel.onnx');
const modelBytes = existsSync(trained) ? readFileSync(trained) : writeOnnxCnn(spec, weights);
const modelNote = existsSync(trained) ? 'models/mnist-k45-multichannel.onnx (trained)' : 'paper CNN with random weights';
const tfjsDir = join(os.tmpdir(), 'ablate-bench-tfjs');
await writeTfjsCnn(spec, weights, tfjsDir);

log(`Machine: ${os.cpus()[0].model}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB; Node ${process.version}; onnxruntime-node 1.30.0; @tensorflow/tfjs 4.22.0`);
log(`Date: ${new Date().toISOString().slice(0, 10)}. Model: ${modelNote}, input [N, 2, 28, 28]. Ablation k = 45, multichannel encoder.`);
log();

/** Encoded batches of real ablated MNIST inputs, generated once, for the bare-inference baselines. */
function encodedBatches(batchSize, count) {
  const pert = new AblationPerturbation({ retain: 45 });
  const enc = new MultichannelEncoder();
  const batch = new PerturbedBatch([1, 28, 28], batchSize);
  const rng = new Rng(1);
  return Array.from({ length: count }, () => {
    const out = new Float32Array(batchSize * 2 * 784);
    pert.sample(image.data, [1, 28, 28], rng, batch, batchSize);
    enc.encode(batch, batchSize, out);
    return out;
  });
}

if (!sequentialOnly) {
// ---- ONNX Runtime CPU: bare run vs certify ----
log('## ONNX Runtime (CPU execution provider)');
log();
log('| batch size | bare `InferenceSession.run` (samples/s) | end-to-end `certify` (samples/s) | framework overhead ratio |');
log('|---:|---:|---:|---:|');
const total = quick ? 4000 : 22000;
const rounds = quick ? 1 : 3;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const bs of quick ? [500] : [100, 500, 1000, 2000]) {
  // Bare and end-to-end runs alternate (median of `rounds` each) so background noise hits both alike.
  const session = await ort.InferenceSession.create(modelBytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  const classifier = await OnnxClassifier.create({ model: modelBytes, batchSize: bs });
  const batches = encodedBatches(bs, 4);
  const runs = Math.ceil(total / bs);
  const n = runs * bs;
  const smoothed = new SmoothedClassifier(new AblationPerturbation({ retain: 45 }), new MultichannelEncoder(), classifier, new CohenCertifier({ alpha: 0.05, n0: 1, n: n - 1 }), { batchSize: bs });
  for (let i = 0; i < 2; i++) await session.run({ input: new ort.Tensor('float32', batches[i % 4], [bs, 2, 28, 28]) });
  await smoothed.votes(image, 2 * bs);
  const bares = [];
  const e2es = [];
  for (let r = 0; r < rounds; r++) {
    const bare = await time(async () => {
      for (let i = 0; i < runs; i++) await session.run({ input: new ort.Tensor('float32', batches[i % 4], [bs, 2, 28, 28]) });
    });
    bares.push(n / bare);
    e2es.push(n / (await time(() => smoothed.certify(image, { index: r }))));
  }
  await session.release();
  await classifier.dispose();
  const row = { bs, bare: median(bares), e2e: median(e2es) };
  log(`| ${bs} | ${row.bare.toFixed(0)} | ${row.e2e.toFixed(0)} | ${(row.e2e / row.bare).toFixed(3)} |`);
}
log();

// ---- tfjs ----
log('## TensorFlow.js');
log();
log('| backend | batch size | bare `model.predict` (samples/s) | end-to-end `certify` (samples/s) | ratio |');
log('|---|---:|---:|---:|---:|');
for (const [backend, bs, n] of quick ? [['wasm', 256, 1024]] : [['wasm', 256, 4096], ['wasm', 1000, 4000], ['cpu', 64, 128]]) {
  const classifier = await TfjsClassifier.create({ model: tfjsDir, backends: [backend], batchSize: bs });
  const model = await tf.loadLayersModel((await import('@ablate/backend-tfjs')).fileHandler(tfjsDir));
  const batches = encodedBatches(bs, 2).map((b) => tf.tidy(() => tf.tensor4d(b, [bs, 2, 28, 28]).transpose([0, 2, 3, 1])));
  const runs = Math.ceil(n / bs);
  const bare = await time(async () => {
    for (let i = 0; i < runs; i++) {
      const y = model.predict(batches[i % 2]);
      await y.data();
      y.dispose();
    }
  });
  tf.dispose(batches);
  model.dispose();
  const smoothed = new SmoothedClassifier(new AblationPerturbation({ retain: 45 }), new MultichannelEncoder(), classifier, new CohenCertifier({ alpha: 0.05, n0: 1, n: runs * bs - 1 }), { batchSize: bs });
  const e2e = await time(() => smoothed.certify(image));
  classifier.dispose();
  log(`| ${backend} | ${bs} | ${((runs * bs) / bare).toFixed(0)} | ${((runs * bs) / e2e).toFixed(0)} | ${(bare / e2e).toFixed(3)} |`);
}
log();

// ---- sampling and bounds ----
log('## Sampling, encoding and certificate math (single thread, JS)');
log();
log('| operation | throughput / time |');
log('|---|---:|');
{
  const b = new PerturbedBatch([1, 28, 28], 1000);
  const out = new Float32Array(1000 * 2 * 784);
  const pert = new AblationPerturbation({ retain: 45 });
  const enc = new MultichannelEncoder();
  const rng = new Rng(2);
  const reps = quick ? 10 : 50;
  const s = await time(() => { for (let i = 0; i < reps; i++) pert.sample(image.data, [1, 28, 28], rng, b, 1000); });
  log(`| ablation sampling, k = 45, d = 784 | ${((reps * 1000) / s).toFixed(0)} samples/s |`);
  const e = await time(() => { for (let i = 0; i < reps; i++) enc.encode(b, 1000, out); });
  log(`| multichannel encoding, 28×28 | ${((reps * 1000) / e).toFixed(0)} samples/s |`);
  const lee = new LeeNoisePerturbation({ levels: 256, keepProb: 0.1 });
  const l = await time(() => { for (let i = 0; i < reps; i++) lee.sample(image.data, [1, 28, 28], rng, b, 1000); });
  log(`| lee-noise sampling, K = 256, κ = 0.1, d = 784 | ${((reps * 1000) / l).toFixed(0)} samples/s |`);
  const id = new IdentityEncoder();
  const ie = await time(() => { for (let i = 0; i < reps; i++) id.encode(b, 1000, out); });
  log(`| identity encoding, 28×28 | ${((reps * 1000) / ie).toFixed(0)} samples/s |`);
}
{
  const d = 3 * 224 * 224;
  const reps = 1000;
  const s = await time(() => { for (let i = 0; i < reps; i++) ablationDelta(d, 14521, 1 + (i % 50)); });
  log(`| Δ(ρ) at d = 3·224·224, k = 14 521 | ${((s / reps) * 1e3).toFixed(4)} ms per evaluation |`);
  const r = await time(() => { for (let i = 0; i < 100; i++) maxCertifiedRadius({ perturbation: new AblationPerturbation({ retain: 1000 }), shape: [3, 224, 224], pLower: 0.99 }); });
  log(`| ablation radius search, ImageNet size, k = 1000 | ${((r / 100) * 1e3).toFixed(3)} ms |`);
  for (const p of [0.9997, 0.99999]) {
    const fresh = await time(() => maxCertifiedRadius({ bound: leeNoiseBound(784, 256, 0.1), pLower: p }));
    const radius = maxCertifiedRadius({ bound: leeNoiseBound(784, 256, 0.1), pLower: p });
    log(`| lee-noise radius search (tight bound), d = 784, K = 256, κ = 0.1, pA = ${p} → r = ${radius} | ${(fresh * 1e3).toFixed(1)} ms (fresh bound, no cache) |`);
  }
  const worst = await time(() => leeNoiseBound(784, 256, 0.5).lower(0.9, 784));
  log(`| lee-noise bound at r = 784 (one evaluation, O(r²) regions) | ${(worst * 1e3).toFixed(1)} ms |`);
}
log();
}

if (!sequentialOnly) await importAndBundle();

// ---- sequential vs fixed-n certification on real MNIST images ----
const sequentialFrom = lines.length;
if (sequentialOnly) {
  log(`Machine: ${os.cpus()[0].model}, ${os.cpus().length} cores; Node ${process.version}; onnxruntime-node, default threads. Date: ${new Date().toISOString().slice(0, 10)}; load average (1 min) before: ${os.loadavg()[0].toFixed(1)}.`);
  log();
}
log('## Sequential certification (ONNX CPU, MNIST test images, k = 45, α = 0.05)');
log();
log('| certifier | images in flight | images | mean samples / image | median | backend calls / image | rows / backend call | wall time (s) | seconds / image | images/s |');
log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
{
  const count = quick ? 5 : 50;
  const onnx = await OnnxClassifier.create({ model: modelBytes, batchSize: 1000 });
  // counts the backend's calls and rows (with images in flight, merged requests are one call)
  const stats = { calls: 0, rows: 0 };
  const classifier = { type: onnx.type, numClasses: onnx.numClasses, checkInputShape: (s) => onnx.checkInputShape(s), classify: (x, n, s) => (stats.calls++, (stats.rows += n), onnx.classify(x, n, s)), dispose: () => onnx.dispose() };
  for (const [name, certifier, inFlight] of [
    ['sequential, defaults (maxSamples 11 000)', new SequentialCertifier({ alpha: 0.05, maxSamples: 11000 }), 1],
    ['sequential, defaults (maxSamples 11 000)', new SequentialCertifier({ alpha: 0.05, maxSamples: 11000 }), 8],
    ['sequential, futilityAlpha 0.5 (maxSamples 11 000)', new SequentialCertifier({ alpha: 0.05, maxSamples: 11000, futilityAlpha: 0.5 }), 1],
    ['sequential, futilityAlpha 0.5 (maxSamples 11 000)', new SequentialCertifier({ alpha: 0.05, maxSamples: 11000, futilityAlpha: 0.5 }), 8],
    ['cohen (n0 1 000, n 10 000)', new CohenCertifier({ alpha: 0.05, n0: 1000, n: 10000 }), 1],
  ]) {
    if (quick && name.startsWith('cohen')) continue;
    const smoothed = new SmoothedClassifier(new AblationPerturbation({ retain: 45 }), new MultichannelEncoder(), classifier, certifier, { batchSize: 1000, imagesInFlight: inFlight });
    const samples = [];
    stats.calls = 0;
    stats.rows = 0;
    const seconds = await time(async () => {
      // all calls at once: the smoothed classifier runs inFlight of them at a time, in order (a sliding window,
      // as certifyAll keeps it); with 1, one after another
      const certs = await Promise.all(Array.from({ length: count }, (_, i) => smoothed.certify(mnist.get(i).image, { index: i })));
      for (const c of certs) samples.push(c.samples);
    });
    log(`| ${name} | ${inFlight} | ${count} | ${(samples.reduce((a, b) => a + b, 0) / count).toFixed(0)} | ${[...samples].sort((a, b) => a - b)[count >> 1]} | ${(stats.calls / count).toFixed(1)} | ${(stats.rows / stats.calls).toFixed(0)} | ${seconds.toFixed(1)} | ${(seconds / count).toFixed(2)} | ${(count / seconds).toFixed(2)} |`);
  }
  // what merging buys depends on how the backend's throughput grows with the batch: measured here
  log();
  log('Throughput of the same backend by batch size (the rows of one call), random multichannel inputs:');
  log();
  log('| rows per call | 16 | 64 | 256 | 1000 |');
  log('|---|---:|---:|---:|---:|');
  const rates = [];
  for (const rows of [16, 64, 256, 1000]) {
    const x = new Float32Array(rows * 2 * 784).map((_, i) => ((i * 2654435761) >>> 0) % 10 === 0 ? 1 : 0);
    await onnx.classify(x, rows, [2, 28, 28]);
    const total = quick ? 4000 : 20000;
    const calls = Math.ceil(total / rows);
    const s = await time(async () => {
      for (let i = 0; i < calls; i++) await onnx.classify(x, rows, [2, 28, 28]);
    });
    rates.push(((calls * rows) / s).toFixed(0));
  }
  log(`| samples/s (onnxruntime-node CPU) | ${rates.join(' | ')} |`);
  await onnx.dispose();
}
log();

if (args.has('--write') && sequentialOnly) {
  const body = lines.slice(sequentialFrom).filter((l) => !l.startsWith('## ')).join('\n').replace(/\n{3,}/g, '\n\n').trim();
  writeBetweenMarkers(join(root, 'docs/performance.md'), 'sequential-bench', body);
  console.log('wrote the sequential-bench section of docs/performance.md');
}
if (args.has('--write') && !sequentialOnly) {
  writeBetweenMarkers(join(root, 'docs/performance.md'), 'bench', lines.join('\n'));
  console.log('wrote docs/performance.md');
}
