import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, symlinkSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMnist } from '@ablate/datasets';
import { main } from '../src/program.js';
import { gatherRun, reportHtml } from '../src/report/index.js';

const ROOT = join(__dirname, '../../..');
const T1 = join(ROOT, 'reproduction/results/table1-k45.jsonl');
const T2 = join(ROOT, 'reproduction/results/table2-k45.jsonl');
/** Rows of the two committed runs and example PNGs of the attack run, counted from the files themselves. */
const rowsOf = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).length;
const T2_EXAMPLES = readdirSync(join(ROOT, 'reproduction/results/table2-k45-examples')).filter((f) => f.endsWith('.png')).length;
const dir = mkdtempSync(join(tmpdir(), 'ablate-report-'));

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const io = { stdout: { write: (s: string) => ((out += s), true) }, stderr: { write: (s: string) => ((err += s), true) } } as never;
  const code = await main(argv, io);
  return { code, out, err };
}

/** The JSON the page carries. */
const pageData = (html: string) => JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!) as { name: string; rows: { index: number; radius: number | null }[]; images: { shape: number[]; pixels: Record<string, string> } | null; adversarial: Record<string, string> }[];

describe('ablate report --html', () => {
  it('embeds every row, the metrics of summarize, the dataset thumbnails and the attack examples; no network reference', async () => {
    const out = join(dir, 'r.html');
    const r = await run(['report', T1, T2, '--html', out]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(new RegExp(`wrote .*r\\.html \\(2 runs, ${rowsOf(T1) + rowsOf(T2)} rows\\)`));
    const html = readFileSync(out, 'utf8');
    const data = pageData(html);
    const lines = readFileSync(T1, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(data[0]!.rows.map((x) => x.index)).toEqual(lines.map((l) => l.index));
    expect(data[0]!.rows.map((x) => x.radius)).toEqual(lines.map((l) => l.radius));
    // summarize's metrics of table1-k45 (docs/reproduction.md: PREDICT 96.40 %, CERTIFY 92.00 %, median 7)
    expect(html).toContain('96.40% (abstained 0.40%)');
    expect(html).toContain('92.00% (abstained 6.60%)');
    expect(html).toMatch(/median certified robustness[^<]*<\/th><td>7 pixels/);
    // thumbnails are the MNIST test images, 8-bit
    const img = loadMnist('test').get(3).image.data;
    const px = Buffer.from(data[0]!.images!.pixels['3']!, 'base64');
    expect([...px]).toEqual([...img].map((v) => Math.round(v * 255)));
    // the attack run's examples: every --save-examples PNG of the run, as PNG data URIs
    expect(T2_EXAMPLES).toBeGreaterThan(0);
    expect(Object.keys(data[1]!.adversarial)).toHaveLength(T2_EXAMPLES);
    expect(data[1]!.adversarial['0']).toMatch(/^data:image\/png;base64,iVBORw0KGgo/);
    // attack rows carry their confirmation (answer and n) and the search's unconfirmed magnitude (table2-k45 row 0)
    expect((data[1]!.rows[0] as unknown as { confirmed: unknown; searchMagnitude: unknown })).toMatchObject({ index: 0, magnitude: 153, confirmed: { prediction: null, n: 10000 }, searchMagnitude: 62 });
    // self-contained: no URL to fetch (the SVG namespace is an identifier, not a request)
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/(src|href)="?(https?:)?\/\//);
    expect(html).toContain("default-src 'none'");
  });

  it('script-breaking text in a config cannot end the data script', async () => {
    const f = join(dir, 'evil.jsonl');
    writeFileSync(f, `${JSON.stringify({ index: 0, label: 1, prediction: 1, radius: 2, correct: true, pLower: 0.9 })}\n`);
    writeFileSync(`${f}.meta.json`, JSON.stringify({ format: 'ablate-results', version: 2, command: 'certify', perturbation: 'x</script><script>alert(1)</script>', unit: 'pixels', config: { note: '</script><b>' } }));
    const html = reportHtml([await gatherRun(f, { thumbnails: false })]);
    expect(html).not.toContain('</script><script>alert(1)');
    expect(html).not.toContain('</script><b>');
    expect(pageData(html)[0]!.rows).toHaveLength(1);
  });

  it('refuses to overwrite a file it did not write, and replaces its own report', async () => {
    const other = join(dir, 'notes.html');
    writeFileSync(other, '<html>my notes</html>');
    const r = await run(['report', T1, '--html', other]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--html: .*notes\.html exists and is not a report written by ablate report; it was left unchanged/);
    expect(readFileSync(other, 'utf8')).toBe('<html>my notes</html>');
    const own = join(dir, 'own.html');
    expect((await run(['report', T1, '--html', own, '--no-thumbnails'])).code).toBe(0);
    expect((await run(['report', T1, '--html', own, '--no-thumbnails'])).code).toBe(0);
    const folder = join(dir, 'folder.html');
    mkdirSync(folder);
    expect((await run(['report', T1, '--html', folder])).err).toMatch(/--html: .*is a folder/);
  });

  it('typed errors: a missing results file, --examples with two files, a non-results file', async () => {
    const missing = await run(['report', join(dir, 'nope.jsonl'), '--html', join(dir, 'x.html')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^ablate: FILE: .*nope\.jsonl/);
    expect((await run(['report', T1, T2, '--examples', dir, '--html', join(dir, 'y.html')])).err).toMatch(/--examples: names the examples folder of one attack run/);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, 'hello\n');
    expect((await run(['report', bad, '--html', join(dir, 'z.html')])).err).toMatch(/bad\.jsonl:1 is not JSON/);
  });

  it('a FIFO in the examples folder is refused at once (it hung the report), and so is a FIFO as FILE', async () => {
    const sub = mkdtempSync(join(dir, 'fifo-'));
    const f = join(sub, 'a.jsonl');
    copyFileSync(T2, f);
    copyFileSync(`${T2}.meta.json`, `${f}.meta.json`);
    mkdirSync(join(sub, 'a-examples'));
    execFileSync('mkfifo', [join(sub, 'a-examples', '0.png')]);
    const r = await run(['report', f, '--html', join(sub, 'r.html'), '--no-thumbnails']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--examples: .*0\.png is not a regular file/);
    expect(existsSync(join(sub, 'r.html'))).toBe(false);
    execFileSync('mkfifo', [join(sub, 'b.jsonl')]);
    const p = await run(['report', join(sub, 'b.jsonl'), '--html', join(sub, 'r.html')]);
    expect(p.code).toBe(2);
    expect(p.err).toMatch(/FILE: .*b\.jsonl is not a regular file/);
  });

  it('--html naming a pipe (/proc/self/fd/1) says so, and a dangling symbolic link is left alone', async () => {
    // the process's stdout is a pipe: its realpath is a "pipe:[…]" name that does not exist
    const bin = join(ROOT, 'packages/cli/dist/bin.js');
    const r = spawnSync(process.execPath, [bin, 'report', T1, '--html', '/proc/self/fd/1', '--no-thumbnails'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^ablate: --html: \/proc\/self\/fd\/1 is not a regular file/);
    const sub = mkdtempSync(join(dir, 'link-'));
    const link = join(sub, 'r.html');
    symlinkSync(join(sub, 'missing', 'target.html'), link);
    const d = await run(['report', T1, '--html', link, '--no-thumbnails']);
    expect(d.code).toBe(2);
    expect(d.err).toMatch(/--html: .*r\.html is a symbolic link to a missing file; it was left unchanged/);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readdirSync(sub)).toEqual(['r.html']); // no temporary left behind
  });
});
