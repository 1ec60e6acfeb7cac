/// <reference lib="dom" />
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { loadMnist } from '@ablate/datasets';
import { main } from '../../packages/cli/src/program.js';
import { summarize } from '../../packages/cli/src/summary.js';
import { hasChromium, launchChromium } from './chromium.js';

// `ablate report` opened from file:// in headless Chromium: every row of a committed reproduction run renders,
// the curve is drawn, filters and sorting give the counts computed here from the JSONL itself.
const ROOT = join(__dirname, '../..');
const T1 = join(ROOT, 'reproduction/results/table1-k45.jsonl');
const T20 = join(ROOT, 'reproduction/results/table1-k20.jsonl');
const T2 = join(ROOT, 'reproduction/results/table2-k45.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'ablate-report-browser-'));
/** Screenshots go to docs/img when ABLATE_SCREENSHOTS=1 (how docs/img/report.png was made), else to a temp folder. */
const shots = process.env.ABLATE_SCREENSHOTS === '1' ? join(ROOT, 'docs/img') : dir;
const silent = { stdout: { write: () => true }, stderr: { write: () => true } } as never;

let chrome: Awaited<ReturnType<typeof launchChromium>> | undefined;
let page: Page;
const rows = readFileSync(T1, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { index: number; label: number; prediction: number | null; radius: number | null; correct: boolean; pLower: number });

beforeAll(async () => {
  if (!hasChromium) return;
  expect(await main(['report', T1, T20, T2, '--html', join(dir, 'report.html')], silent)).toBe(0);
  chrome = await launchChromium();
  page = await chrome.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) errors.push(`network request: ${r.url()}`);
  });
  await page.goto(pathToFileURL(join(dir, 'report.html')).href);
  await page.waitForSelector('body[data-ready="true"]');
  expect(errors).toEqual([]);
});
afterAll(async () => {
  await chrome?.close();
});

const shown = () => page.$$eval('#gallery tbody tr', (trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.index)));
const matching = async () => Number(await page.getAttribute('#count', 'data-matching'));
async function reset(): Promise<void> {
  await page.selectOption('#run', '0');
  await page.selectOption('#filter', 'all');
  await page.fill('#min-radius', '');
  await page.selectOption('#sort', 'index');
  await page.selectOption('#page-size', '100');
}

describe.skipIf(!hasChromium)('ablate report in headless Chromium', () => {
  it('renders every row of table1-k45 (500, over five pages and at 500 per page) with its thumbnail', async () => {
    await reset();
    const seen: number[] = [];
    for (let p = 0; p < 5; p++) {
      seen.push(...(await shown()));
      if (p < 4) await page.click('#next');
    }
    expect(await page.isDisabled('#next')).toBe(true);
    expect(seen).toEqual(rows.map((r) => r.index));
    await page.selectOption('#page-size', '500');
    expect(await shown()).toEqual(rows.map((r) => r.index));
    expect(await page.$$eval('#gallery tbody canvas.thumb', (c) => c.length)).toBe(500);
    // the canvas of image 7 holds MNIST test image 7's pixels
    const drawn = await page.$eval('#gallery tr[data-index="7"] canvas', (c) => {
      const d = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 28, 28).data;
      return Array.from({ length: 784 }, (_, i) => d[4 * i]);
    });
    expect(drawn).toEqual([...loadMnist('test').get(7).image.data].map((v) => Math.round(v * 255)));
    await page.selectOption('#page-size', '100');
    await page.screenshot({ path: join(shots, 'report.png'), fullPage: false });
  });

  it('draws the certified-accuracy curves of the runs on one chart', async () => {
    const legend = await page.$$eval('#chart svg text', (t) => t.map((x) => x.textContent ?? ''));
    expect(legend.some((t) => /k=45/.test(t))).toBe(true);
    expect(legend.some((t) => /k=20/.test(t))).toBe(true);
    expect(await page.$$eval('#chart svg path, #chart svg polyline', (p) => p.length)).toBeGreaterThanOrEqual(3);
    const box = await page.$eval('#chart svg', (s) => s.getBoundingClientRect().width);
    expect(box).toBeGreaterThan(300);
  });

  it('filters: abstained, misclassified, and radius ≥ 8 (= the certified accuracy at 8, as summarize computes it)', async () => {
    await reset();
    await page.selectOption('#filter', 'abstained');
    expect(await matching()).toBe(rows.filter((r) => r.prediction === null).length);
    expect((await shown()).every((i) => rows.find((r) => r.index === i)!.prediction === null)).toBe(true);
    await page.selectOption('#filter', 'misclassified');
    expect(await matching()).toBe(rows.filter((r) => r.prediction !== null && !r.correct).length);
    await page.selectOption('#filter', 'all');
    await page.fill('#min-radius', '8');
    const atLeast8 = rows.filter((r) => r.correct && r.prediction !== null && r.radius !== null && r.radius >= 8).length;
    expect(atLeast8).toBeGreaterThan(0);
    expect(await matching()).toBe(atLeast8);
    expect(atLeast8 / rows.length).toBe(summarize(T1).certifiedAccuracy['8']);
    await page.screenshot({ path: join(shots, 'report-filter.png') });
  });

  it('sorts by radius and by pLower', async () => {
    await reset();
    await page.selectOption('#sort', 'radius-desc');
    const top = (await shown())[0]!;
    const best = Math.max(...rows.filter((r) => r.correct && r.radius !== null).map((r) => r.radius!));
    expect(rows.find((r) => r.index === top)!.radius).toBe(best);
    await page.selectOption('#sort', 'plower-asc');
    const first = (await shown()).slice(0, 5).map((i) => rows.find((r) => r.index === i)!.pLower);
    expect(first).toEqual([...rows.map((r) => r.pLower)].sort((a, b) => a - b).slice(0, 5));
  });

  it('an attack run shows each adversarial example beside its original', async () => {
    await reset();
    await page.selectOption('#run', '2');
    await page.selectOption('#page-size', '100');
    // every example PNG of the attack run (its examples folder), all on this one page of 100
    const examples = readdirSync(join(ROOT, 'reproduction/results/table2-k45-examples')).filter((f) => f.endsWith('.png')).length;
    expect(examples).toBeGreaterThan(0);
    expect(examples).toBeLessThanOrEqual(100);
    expect(await page.$$eval('#gallery tbody img.adv', (i) => i.length)).toBe(examples);
    const loaded = await page.$$eval('#gallery tbody img.adv', (imgs) => imgs.every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth === 28));
    expect(loaded).toBe(true);
    // each row says which fresh PREDICT confirmed its example and where the search itself ended (issue 20 §6)
    const t2 = readFileSync(T2, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { index: number; confirmed: { prediction: number | null; n: number } | null; searchMagnitude: number | null });
    const cells = await page.$$eval('#gallery tbody tr', (trs) => trs.map((tr) => [Number((tr as HTMLElement).dataset.index), tr.querySelector('td.confirmed')?.textContent, tr.querySelector('td.search')?.textContent]));
    expect(cells).toEqual(
      t2.map((r) => [r.index, r.confirmed === null ? 'none confirmed' : `${r.confirmed.prediction === null ? 'abstained' : r.confirmed.prediction} (n = ${r.confirmed.n})`, r.searchMagnitude === null ? '—' : `${r.searchMagnitude} pixels`]),
    );
    expect(cells[0]).toEqual([0, 'abstained (n = 10000)', '62 pixels']); // table2-k45.jsonl's first row
    await page.locator('#gallery').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'report-attack.png') });
  });

  it('stays usable at 10 000 rows: one page rendered, filters over all of them', async () => {
    const big = join(dir, 'big.jsonl');
    const many = Array.from({ length: 10_000 }, (_, i) => ({ index: i, label: i % 10, prediction: i % 7 === 0 ? null : i % 10, radius: i % 7 === 0 ? null : i % 13, correct: i % 7 !== 0, pLower: 0.5 + (i % 50) / 100 }));
    writeFileSync(big, many.map((r) => `${JSON.stringify(r)}\n`).join(''));
    expect(await main(['report', big, '--html', join(dir, 'big.html'), '--no-thumbnails'], silent)).toBe(0);
    const p = await chrome!.context.newPage();
    await p.goto(pathToFileURL(join(dir, 'big.html')).href);
    await p.waitForSelector('body[data-ready="true"]');
    expect(await p.$$eval('#gallery tbody tr', (t) => t.length)).toBe(100);
    expect(await p.textContent('#count')).toMatch(/^10000 of 10000 images/);
    await p.fill('#min-radius', '12');
    expect(Number(await p.getAttribute('#count', 'data-matching'))).toBe(many.filter((r) => r.correct && r.radius !== null && r.radius >= 12).length);
    await p.close();
  });
});
