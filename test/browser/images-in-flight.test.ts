/// <reference lib="dom" />
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { AblationPerturbation, FunctionClassifier, MultichannelEncoder, SequentialCertifier, SmoothedClassifier, type Certificate, type Image } from '@ablate/core';
import { hasChromium, launchChromium } from './chromium.js';

// imagesInFlight in headless Chromium: there is no setImmediate there, so the BatchCoalescer schedules its merges
// with a MessageChannel. Core's browser build is bundled with esbuild into the page; its certificates with 4 images
// in flight must be those Node computes one at a time, from merged backend calls.
const ROOT = join(__dirname, '../..');

/** The page's program: image i, the classifier and the smoothing options, shared with the Node side as source text. */
const shared = `
const H = 6;
const image = (i) => { const data = new Float32Array(H * H); for (let j = 0; j < H * H; j++) data[j] = (j * 7 + i * 3) % 10 < 3 + (i % 6) ? 1 : 0; return { data, shape: [1, H, H] }; };
const predict = (row) => { let ones = 0; for (let j = 0; j < row.length / 2; j++) if (row[j] > 0.5) ones++; return ones >= 3 ? 1 : 0; };
`;

let chrome: Awaited<ReturnType<typeof launchChromium>> | undefined;
let bundle = '';
beforeAll(async () => {
  if (!hasChromium) return;
  const entry = `
    import { AblationPerturbation, FunctionClassifier, MultichannelEncoder, SequentialCertifier, SmoothedClassifier } from '@ablate/core';
    ${shared}
    window.runInFlight = async () => {
      const calls = [];
      const inner = new FunctionClassifier({ numClasses: 3, predict });
      const backend = { type: 'page', numClasses: 3, checkInputShape() {}, async classify(x, n, s) { calls.push(n); await new Promise((r) => setTimeout(r, 1)); return inner.classify(x, n, s); }, dispose() {} };
      const smoothed = new SmoothedClassifier(new AblationPerturbation({ retain: 8 }), new MultichannelEncoder(), backend, new SequentialCertifier({ alpha: 0.05, maxSamples: 2000, n0: 100 }), { batchSize: 100, seed: 3, imagesInFlight: 4 });
      // a call that waits for a lane and is aborted there rejects at once
      const controller = new AbortController();
      const certs = Array.from({ length: 8 }, (_, i) => smoothed.certify(image(i), { index: i }));
      const queued = smoothed.certify(image(9), { index: 9, signal: controller.signal });
      controller.abort();
      const aborted = await queued.then(() => 'certified', (e) => e.code);
      return { hasSetImmediate: typeof setImmediate !== 'undefined', certificates: await Promise.all(certs), aborted, calls, stats: smoothed.coalescer.stats };
    };
  `;
  const out = await build({ stdin: { contents: entry, resolveDir: ROOT, loader: 'js' }, bundle: true, format: 'iife', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent' });
  bundle = out.outputFiles[0]!.text;
  chrome = await launchChromium();
}, 120_000);
afterAll(async () => {
  await chrome?.close();
});

describe.skipIf(!hasChromium)('imagesInFlight in headless Chromium (MessageChannel scheduling)', () => {
  it('4 images in flight: the certificates of a one-at-a-time run in Node, from merged backend calls; a queued call aborts at once', async () => {
    const page = await chrome!.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.setContent('<!doctype html><html><body></body></html>');
    await page.addScriptTag({ content: bundle });
    const got = (await page.evaluate(() => (window as unknown as { runInFlight: () => Promise<unknown> }).runInFlight())) as {
      hasSetImmediate: boolean;
      certificates: Certificate[];
      aborted: string;
      calls: number[];
      stats: { calls: number; rows: number; requests: number };
    };
    await page.close();
    expect(errors).toEqual([]);
    expect(got.hasSetImmediate).toBe(false);
    expect(got.aborted).toBe('ABORTED');

    const { image, predict } = new Function(`${shared}; return { image, predict };`)() as { image: (i: number) => Image; predict: (row: Float32Array) => number };
    const alone = new SmoothedClassifier(new AblationPerturbation({ retain: 8 }), new MultichannelEncoder(), new FunctionClassifier({ numClasses: 3, predict }), new SequentialCertifier({ alpha: 0.05, maxSamples: 2000, n0: 100 }), { batchSize: 100, seed: 3 });
    const expected: Certificate[] = [];
    for (let i = 0; i < 8; i++) expected.push(await alone.certify(image(i), { index: i }));
    expect(got.certificates).toEqual(JSON.parse(JSON.stringify(expected)));
    const rows = expected.reduce((a, c) => a + c.samples, 0);
    expect(got.stats.rows).toBe(rows);
    expect(got.calls.reduce((a, b) => a + b, 0)).toBe(rows);
    expect(Math.max(...got.calls)).toBeLessThanOrEqual(100);
    // merged: fewer backend calls than requests (one at a time it would be one call per request)
    expect(got.stats.calls).toBeLessThan(got.stats.requests * 0.75);
  });
});
