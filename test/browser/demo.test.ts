/// <reference lib="dom" />
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import '@ablate/backend-onnx'; // registers the "onnx" classifier (onnxruntime-node) for the Node-side check
import { confirmStream, createContainer, type AblateConfig, type Shape } from '@ablate/core';
import { loadMnist } from '@ablate/datasets';
import { main } from '../../packages/cli/src/program.js';
import { hasChromium, launchChromium } from './chromium.js';

// examples/browser-demo built with vite and served as static files (vite preview, with the COOP/COEP headers):
// in headless Chromium it certifies MNIST test image 0 exactly as `ablate certify` does with the same config and
// seed, and its cancel button stops a run.
const ROOT = join(__dirname, '../..');
const DEMO = join(ROOT, 'examples/browser-demo');
const dir = mkdtempSync(join(tmpdir(), 'ablate-demo-'));
const shots = process.env.ABLATE_SCREENSHOTS === '1' ? join(ROOT, 'docs/img') : dir;

let server: PreviewServer | undefined;
let chrome: Awaited<ReturnType<typeof launchChromium>> | undefined;
let page: Page;
let url = '';
const errors: string[] = [];

beforeAll(async () => {
  if (!hasChromium) return;
  const outDir = join(dir, 'dist');
  await build({ configFile: join(DEMO, 'vite.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
  server = await preview({ configFile: join(DEMO, 'vite.config.ts'), logLevel: 'error', build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
  url = server.resolvedUrls!.local[0]!;
  chrome = await launchChromium();
  page = await chrome.context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith(url) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) errors.push(`request outside the demo: ${r.url()}`);
  });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 90_000 });
}, 240_000);
afterAll(async () => {
  await chrome?.close();
  await server?.close();
});

describe.skipIf(!hasChromium)('examples/browser-demo in headless Chromium', () => {
  it('certifies MNIST test image 0: the same prediction, radius, pLower and votes as `ablate certify` with its config', async () => {
    let out = '';
    const io = { stdout: { write: (s: string) => ((out += s), true) }, stderr: { write: () => true } } as never;
    expect(await main(['certify', '--config', join(DEMO, 'config.json'), '--start', '0', '--count', '1'], io)).toBe(0);
    const cli = JSON.parse(out.trim()) as { prediction: number; radius: number; pLower: number; nA: number; n: number; samples: number };

    expect(await page.textContent('#label')).toBe('7');
    expect(await page.textContent('#status')).toMatch(/ready: onnxruntime-web on wasm, \d+ threads? \(cross-origin isolated\)/);
    await page.click('#certify');
    await page.waitForFunction(() => document.body.dataset.certified, undefined, { timeout: 120_000 });
    const web = JSON.parse((await page.getAttribute('body', 'data-certified'))!) as typeof cli & { sampled: number; seconds: number };
    expect({ prediction: web.prediction, radius: web.radius, pLower: web.pLower, nA: web.nA, n: web.n, samples: web.samples }).toEqual({
      prediction: cli.prediction,
      radius: cli.radius,
      pLower: cli.pLower,
      nA: cli.nA,
      n: cli.n,
      samples: cli.samples,
    });
    expect(web.prediction).toBe(7);
    expect(await page.textContent('#prediction')).toBe('7');
    expect(await page.textContent('#radius')).toBe(`${cli.radius} pixels`);
    // the vote bars count every sample drawn (selection and estimation); the top bar is the prediction
    const votes = await page.$$eval('[data-votes]', (s) => s.map((x) => Number(x.textContent)));
    expect(votes.reduce((a, b) => a + b, 0)).toBe(web.sampled);
    expect(votes.indexOf(Math.max(...votes))).toBe(7);
    expect(web.sampled).toBeGreaterThanOrEqual(cli.samples);
    console.log(`demo: image 0 certified in ${web.seconds.toFixed(2)} s, ${Math.round(web.sampled / web.seconds)} samples/s (threads: ${await page.getAttribute('body', 'data-threads')})`);
    await page.screenshot({ path: join(shots, 'browser-demo.png'), fullPage: true });
  });

  it('multi-threaded wasm (the page is cross-origin isolated, ?threads=2): the same certificate', async () => {
    const p = await chrome!.context.newPage();
    p.on('pageerror', (e) => errors.push(e.message));
    await p.goto(`${url}?threads=2`);
    await p.waitForSelector('body[data-ready="true"]', { timeout: 90_000 });
    expect(await p.textContent('#status')).toMatch(/on wasm, 2 threads \(cross-origin isolated\)/);
    await p.click('#certify');
    await p.waitForFunction(() => document.body.dataset.certified, undefined, { timeout: 120_000 });
    const c = JSON.parse((await p.getAttribute('body', 'data-certified'))!) as { prediction: number; radius: number; nA: number; n: number };
    expect([c.prediction, c.radius, c.nA, c.n]).toEqual([7, 11, 2744, 2775]); // as `ablate certify` (first test)
    await p.close();
    expect(errors).toEqual([]);
  });

  it('?webgpu=1 without a GPU (headless, --disable-gpu): falls back to wasm with backend-onnx’s one-line warning', async () => {
    const p = await chrome!.context.newPage();
    await p.goto(`${url}?webgpu=1`);
    await p.waitForSelector('body[data-ready="true"]', { timeout: 90_000 });
    expect(await p.textContent('#status')).toMatch(/^ready: onnxruntime-web on wasm, .* — @ablate\/backend-web: webgpu \(.+\) is not available; running on wasm\. See docs\/backends\.md\.$/);
    await p.close();
  });

  it('cancel stops a certification (core’s AbortSignal) and an attack part-way, and the page certifies again afterwards', async () => {
    await page.fill('#index', '8');
    await page.click('#load');
    await page.waitForFunction(() => document.getElementById('label')!.textContent === '5');
    await page.click('#certify');
    await page.waitForFunction(() => Number((document.getElementById('progress') as HTMLProgressElement).value) > 0, undefined, { timeout: 60_000 });
    await page.click('#cancel');
    await page.waitForFunction(() => document.body.dataset.certified, undefined, { timeout: 60_000 });
    expect(await page.getAttribute('body', 'data-certified')).toBe('cancelled');
    expect(await page.textContent('#progress-text')).toMatch(/^cancelled after \d+ samples$/);
    expect(await page.textContent('#radius')).toBe('—');
    expect(await page.isEnabled('#certify')).toBe(true);
    // the attack's cancel too, here during its first confirming PREDICT (the clean image's, n = 10 000 by default)
    await page.click('#attack');
    await page.waitForFunction(() => /^confirming \(fresh PREDICT 1, n = 10000\): [1-9]\d* of 10000 samples$/.test(document.getElementById('attack-progress')!.textContent ?? ''), undefined, { timeout: 60_000 });
    await page.click('#attack-cancel');
    await page.waitForFunction(() => document.body.dataset.attacked, undefined, { timeout: 60_000 });
    expect(await page.getAttribute('body', 'data-attacked')).toBe('cancelled');
    expect(await page.textContent('#magnitude')).toBe('—');
    await page.fill('#index', '0');
    await page.click('#load');
    await page.click('#certify');
    await page.waitForFunction(() => document.body.dataset.certified, undefined, { timeout: 120_000 });
    expect(await page.textContent('#prediction')).toBe('7');
  });

  it('a drawn digit: scaled into 28 × 28 and certified like a test image', async () => {
    await page.click('#clear');
    const box = (await page.locator('#draw').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 40);
    await page.mouse.down();
    for (let y = 40; y <= box.height - 40; y += 10) await page.mouse.move(box.x + box.width / 2, box.y + y);
    await page.mouse.up();
    expect(await page.textContent('#label')).toBe('drawn (none)');
    // a vertical stroke, MNIST-style: 20 pixels tall in the middle columns of the 28 × 28 input
    const lit = await page.$eval('#original', (c) => {
      const d = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 28, 28).data;
      const rows = new Set<number>();
      const cols = new Set<number>();
      for (let p = 0; p < 784; p++) if (d[4 * p]! > 128) (rows.add(Math.floor(p / 28)), cols.add(p % 28));
      return { rows: [...rows].sort((a, b) => a - b), cols: [...cols].sort((a, b) => a - b) };
    });
    expect(lit.rows[0]).toBeGreaterThanOrEqual(3);
    expect(lit.rows[lit.rows.length - 1]).toBeLessThanOrEqual(24);
    expect(lit.rows.length).toBeGreaterThanOrEqual(18);
    expect(lit.cols.every((c) => c >= 10 && c <= 17)).toBe(true);
    await page.click('#certify');
    await page.waitForFunction(() => document.body.dataset.certified, undefined, { timeout: 120_000 });
    const c = JSON.parse((await page.getAttribute('body', 'data-certified'))!) as { prediction: number | null; samples: number };
    expect(c.samples).toBeGreaterThan(0);
    expect(await page.textContent('#prediction')).toBe(c.prediction === null ? 'abstain' : String(c.prediction));
    await page.fill('#index', '0');
    await page.click('#load');
  });

  it('attack it: the Pointwise attack runs in the page and shows only an example a fresh PREDICT confirmed, which Node reproduces', { timeout: 300_000 }, async () => {
    // a short attack (at most 60 search queries) and confirmations with n = 1 000 samples (?confirmN=1000) keep the
    // test short; the page's defaults are 3 000 queries and the paper's n = 10 000
    await page.goto(`${url}?attackQueries=60&confirmN=1000`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 90_000 });
    await page.click('#certify');
    await page.waitForFunction(() => document.body.dataset.certified, undefined, { timeout: 120_000 });
    await page.click('#attack');
    await page.waitForFunction(() => document.body.dataset.attacked, undefined, { timeout: 100_000 });
    const r = JSON.parse((await page.getAttribute('body', 'data-attacked'))!) as {
      magnitude: number | null;
      prediction: number | null;
      target: number;
      confirmN: number;
      confirmed: { prediction: number | null; n: number; nA: number; nB: number; pValue: number; attempt: number } | null;
      searchMagnitude: number | null;
      confirmations: number;
      adversarial: number[] | null;
    };
    expect(r.target).toBe(7);
    expect(r.confirmN).toBe(1000);
    expect(r.magnitude).not.toBeNull();
    expect(r.magnitude!).toBeGreaterThan(0);
    expect(r.confirmed).not.toBeNull();
    const confirmed = r.confirmed!;
    expect(confirmed.n).toBe(1000);
    expect(r.prediction).toBe(confirmed.prediction);
    expect(confirmed.prediction).not.toBe(7); // another class, or abstain (null): the paper's criterion, at the confirming PREDICT
    // the search ends at most as large as the reported example (walking back only adds pixels); the clean image's
    // confirmation, the initialisation's and the final example's make at least 3
    expect(r.searchMagnitude).not.toBeNull();
    expect(r.searchMagnitude!).toBeLessThanOrEqual(r.magnitude!);
    expect(r.confirmations).toBeGreaterThanOrEqual(3);
    expect(confirmed.attempt).toBeLessThan(r.confirmations);

    // Node, independently of the page: PREDICT with the demo's config on the onnxruntime-node backend, on the shown
    // adversarial image, from the same confirming stream confirmStream(0, attempt) gives the page's answer and votes
    const { $schema: _s, dataset: _d, classifier, ...settings } = JSON.parse(readFileSync(join(DEMO, 'config.json'), 'utf8')) as Record<string, unknown> & { classifier: { model: string } };
    const rt = await createContainer({ ...settings, classifier: { ...classifier, model: join(DEMO, classifier.model) } } as unknown as AblateConfig);
    const adversarial = { data: Float32Array.from(r.adversarial!), shape: [1, 28, 28] as Shape };
    const p = await rt.smoothed.predict(adversarial, { index: confirmStream(0, confirmed.attempt), confirm: true, n: r.confirmN });
    expect({ prediction: p.prediction, n: p.n, nA: p.nA, nB: p.nB, pValue: p.pValue }).toEqual({ prediction: confirmed.prediction, n: 1000, nA: confirmed.nA, nB: confirmed.nB, pValue: confirmed.pValue });
    // and the image it confirmed is the one the page shows: the original with `magnitude` pixels changed
    const original = loadMnist('test').get(0).image.data;
    expect(r.adversarial!.filter((v, i) => v !== original[i]).length).toBe(r.magnitude);

    const answer = confirmed.prediction === null ? 'abstain' : String(confirmed.prediction);
    expect(await page.textContent('#attack-verdict')).toBe(`changed ${r.magnitude} pixels to change the prediction to ${answer}; certified radius: 11 pixels`);
    expect(await page.textContent('#magnitude')).toBe(`${r.magnitude} pixels`);
    const walk =
      r.searchMagnitude === r.magnitude
        ? `the search's own ${r.magnitude} pixels were confirmed as they were`
        : `the search ended at ${r.searchMagnitude} pixels (unconfirmed: a fresh PREDICT there returned 7), walked back to ${r.magnitude}`;
    expect(await page.textContent('#attack-confirmation')).toBe(
      `confirmed by a fresh PREDICT with n = 1000 samples (confirmation ${confirmed.attempt}, its own random stream): ${answer}, top two votes ${confirmed.nA} and ${confirmed.nB}, p-value ${confirmed.pValue.toPrecision(3)}; ${walk}; ${r.confirmations} confirmations asked.`,
    );
    const changed = await page.$eval('#adversarial', (c) => {
      const a = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 28, 28).data;
      const b = (document.getElementById('original') as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 28, 28).data;
      let n = 0;
      for (let p = 0; p < 784; p++) if (a[4 * p] !== b[4 * p]) n++;
      return n;
    });
    expect(changed).toBe(r.magnitude);
    await page.screenshot({ path: join(shots, 'browser-demo-attack.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
