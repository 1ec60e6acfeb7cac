// Samples/s of the smoothed classifier in headless Chromium (onnxruntime-web: wasm single-thread, and
// multi-thread in the cross-origin-isolated demo page) beside Node (onnxruntime-node CPU, onnxruntime-web wasm),
// on one workload: the sequential certification of MNIST test image 0 with examples/browser-demo/config.json
// (k = 45, 2 791 samples), end to end (sampling, encoding, inference, votes). Best of --runs (default 3).
//   node bench/browser.mjs [--runs N]      (after `pnpm run build`; needs /usr/bin/chromium)
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { createContainer } from '@ablate/core';
import { loadMnist } from '@ablate/datasets';
import '@ablate/backend-onnx';
import '@ablate/backend-web';

const ROOT = join(import.meta.dirname, '..');
const DEMO = join(ROOT, 'examples/browser-demo');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;
const { $schema, dataset, classifier, ...settings } = JSON.parse(readFileSync(join(DEMO, 'config.json'), 'utf8'));
const model = join(ROOT, 'models/mnist-k45-multichannel.onnx');
const image = loadMnist('test').get(0).image;
const results = [];

async function node(label, cls) {
  const rt = await createContainer({ ...settings, classifier: { ...cls, model, batchSize: 1000 } });
  let best = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const c = await rt.smoothed.certify(image, { index: 0 });
    best = Math.max(best, c.samples / ((performance.now() - t0) / 1000));
  }
  await rt.dispose();
  results.push([label, best]);
}

await node('Node, onnxruntime-node CPU, 1 intra-op thread', { type: 'onnx', intraOpNumThreads: 1 });
await node('Node, onnxruntime-node CPU, default threads', { type: 'onnx' });
await node('Node, onnxruntime-web wasm, 1 thread', { type: 'onnx-web' });

const outDir = join(mkdtempSync(join(tmpdir(), 'ablate-bench-demo-')), 'dist');
await build({ configFile: join(DEMO, 'vite.config.ts'), logLevel: 'error', build: { outDir } });
const server = await preview({ configFile: join(DEMO, 'vite.config.ts'), logLevel: 'error', build: { outDir }, preview: { port: 0 } });
const url = server.resolvedUrls.local[0];
const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'ablate-chromium-')), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const version = ctx.browser()?.version() ?? 'chromium';
for (const threads of [1, 2]) {
  const page = await ctx.newPage();
  await page.goto(`${url}?threads=${threads}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
  const isolated = await page.evaluate(() => crossOriginIsolated);
  let best = 0;
  for (let r = 0; r < runs; r++) {
    await page.click('#certify');
    await page.waitForFunction(() => document.body.dataset.certified, undefined, { timeout: 300_000 });
    const c = JSON.parse(await page.getAttribute('body', 'data-certified'));
    best = Math.max(best, c.sampled / c.seconds);
  }
  results.push([`Chromium ${version}, onnxruntime-web wasm, ${threads} thread${threads > 1 ? 's' : ''}${isolated ? ' (cross-origin isolated)' : ''}`, best]);
  await page.close();
}
await ctx.close();
await server.close();

console.log(`Machine: ${cpus()[0]?.model}, ${cpus().length} cores; load average ${loadavg()[0].toFixed(1)}; Node ${process.version}`);
console.log('| where | samples/s (certify image 0, end to end) |\n|---|---:|');
for (const [label, rate] of results) console.log(`| ${label} | ${Math.round(rate)} |`);
