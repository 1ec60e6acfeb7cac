import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { idxBytes } from '@ablate/testing';
import { gatherRun, MAX_REPORT_THUMBNAIL_BYTES } from '../src/report/index.js';
import { parseCurve } from '../src/commands/plan.js';
import { UsageError } from '../src/errors.js';

// A second hostile pass over issue 20 §4/§5: datasets that lie, files that are not what they claim.
const root = resolve(__dirname, '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const example = JSON.parse(readFileSync(join(root, 'examples/mnist-onnx/config.json'), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'ablate-hostile2-'));
const config = join(dir, 'config.json');
writeFileSync(config, JSON.stringify({ ...example, $schema: undefined, classifier: { ...example.classifier, model: join(root, 'models/mnist-k45-multichannel.onnx') } }));

function ablate(args: string[], timeout = 60_000) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** An IDX pair (MNIST test split names) of `n` black 28×28 images with the given labels. */
function idxPair(name: string, labels: number[]): string {
  const folder = join(dir, name);
  mkdirSync(folder);
  writeFileSync(join(folder, 't10k-images-idx3-ubyte'), idxBytes([labels.length, 28, 28], new Uint8Array(labels.length * 784)));
  writeFileSync(join(folder, 't10k-labels-idx1-ubyte'), idxBytes([labels.length], labels));
  return folder;
}

describe('a dataset label the model cannot predict', () => {
  it('is an error naming the image and the class range, before any row (it was silently "misclassified")', () => {
    const data = idxPair('label-200', [3, 200]);
    const out = join(dir, 'label-200.jsonl');
    const r = ablate(['certify', '--config', config, '--data-path', data, '--n0', '10', '--n', '50', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ablate: dataset\[1\]\.label: is 200, not one of the model's 10 classes \(0 … 9\)/m);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    // image 0 (label 3) was certified before image 1 was reached; no row claims label 200
    const lines = existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : [];
    expect(lines.map((l) => JSON.parse(l).label)).toEqual([3]);
  });
});

describe('--plugin naming something that is not a module file', () => {
  it('a FIFO (hung the import) and a device (read whole: /dev/zero grew without bound) are refused before any import', () => {
    const fifo = join(dir, 'plugin.mjs');
    execFileSync('mkfifo', [fifo]);
    const r = ablate(['--plugin', fifo, 'schema'], 15_000);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ablate: --plugin: plug-in module ".*plugin\.mjs" is a pipe, not a module file/);
    const device = ablate(['--plugin', '/dev/null', 'schema'], 15_000);
    expect(device.code).toBe(2);
    expect(device.stderr).toMatch(/^ablate: --plugin: plug-in module "\/dev\/null" is a device, not a module file/);
    // the config's "plugins" go through the same check
    const cfg = join(dir, 'plugin-config.json');
    writeFileSync(cfg, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), plugins: ['/dev/null'] }));
    const viaConfig = ablate(['certify', '--config', cfg, '--count', '1'], 15_000);
    expect(viaConfig.code).toBe(2);
    expect(viaConfig.stderr).toMatch(/plug-in module "\/dev\/null" is a device, not a module file/);
  });
});

/** A valid 8-bit greyscale PNG of w×h black pixels. */
function blackPng(w: number, h: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth; colour type 0 (grey), no interlace
  const raw = Buffer.alloc(h * (w + 1)); // filter byte 0 and black pixels on every row
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

describe('ablate report thumbnails', () => {
  it('are left out, with a note, when the images would embed more than MAX_REPORT_THUMBNAIL_BYTES (3 images of 4096×4096)', async () => {
    const folder = join(dir, 'big-images');
    mkdirSync(join(folder, 'imgs', '0'), { recursive: true });
    const png = blackPng(4096, 4096);
    for (const name of ['a', 'b', 'c']) writeFileSync(join(folder, 'imgs', '0', `${name}.png`), png);
    const results = join(folder, 'run.jsonl');
    writeFileSync(results, [0, 1, 2].map((index) => `${JSON.stringify({ index, label: 0, prediction: 0, radius: 1, correct: true, pLower: 0.9 })}\n`).join(''));
    writeFileSync(`${results}.meta.json`, JSON.stringify({ format: 'ablate-results', version: 2, command: 'certify', perturbation: 'ablation(k=45)', unit: 'pixels', config: { dataset: { type: 'image-folder', path: 'imgs' } } }));
    const run = await gatherRun(results);
    expect(3 * 4096 * 4096).toBeGreaterThan(MAX_REPORT_THUMBNAIL_BYTES);
    expect(run.images).toBeNull();
    expect(run.imagesNote).toBe(`thumbnails left out: ${3 * 4096 * 4096} bytes of pixels (images of 1×4096×4096), more than the ${MAX_REPORT_THUMBNAIL_BYTES} a report embeds`);
    expect(run.rows).toHaveLength(3);
    // one such image fits: its thumbnail is embedded, all black
    const one = join(folder, 'one.jsonl');
    writeFileSync(one, `${JSON.stringify({ index: 0, label: 0, prediction: 0, radius: 1, correct: true, pLower: 0.9 })}\n`);
    writeFileSync(`${one}.meta.json`, readFileSync(`${results}.meta.json`));
    const small = await gatherRun(one);
    expect(small.images!.shape).toEqual([1, 4096, 4096]);
    expect(Buffer.from(small.images!.pixels['0']!, 'base64').every((b) => b === 0)).toBe(true);
  });
});

describe('summarize --plot', () => {
  it('naming a pipe (/proc/self/fd/1) says so; a dangling symbolic link is refused and left in place', () => {
    const results = join(root, 'reproduction/results/table1-k45.jsonl');
    const r = ablate(['summarize', results, '--plot', '/proc/self/fd/1']); // stdout is a pipe here
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ablate: --plot: \/proc\/self\/fd\/1 is not a regular file/);
    const sub = mkdtempSync(join(dir, 'plot-link-'));
    const link = join(sub, 'curve.svg');
    symlinkSync(join(sub, 'missing', 'curve.svg'), link);
    const d = ablate(['summarize', results, '--plot', link]);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/--plot: .*curve\.svg is a symbolic link to a missing file; it was left unchanged/);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readdirSync(sub)).toEqual(['curve.svg']);
  });
});

describe('--curve-file JSON that is not numbers', () => {
  it('a deeply nested entry is a UsageError (was "Maximum call stack size exceeded"); [[45]], null and true are not numbers', () => {
    const deep = `[${'['.repeat(50_000)}${']'.repeat(50_000)}]`;
    expect(() => parseCurve(deep, '--curve-file')).toThrow(UsageError);
    expect(() => parseCurve(deep, '--curve-file')).toThrow('--curve-file: entry 1 is not a (parameter, pA) pair with pA in [0, 1]: [[…], undefined]');
    for (const bad of ['[[[[45]], 0.9]]', '[[45, null]]', '[[true, 0.9]]', '[["", 0.9]]', '[[45, [0.9]]]']) {
      expect(() => parseCurve(bad, '--curve-file'), bad).toThrow(/entry 1 is not a \(parameter, pA\) pair/);
    }
    // what it accepts: numbers, numeric strings, {param|k, pA} objects, and the text form
    expect(parseCurve('[[45, 0.9], ["20", "0.5"], {"k": 100, "pA": 0.99}]', '--curve-file')).toEqual([
      { param: 45, pA: 0.9 },
      { param: 20, pA: 0.5 },
      { param: 100, pA: 0.99 },
    ]);
    expect(parseCurve('45 0.9\n# note\n20,0.5\n', '--curve-file')).toEqual([
      { param: 45, pA: 0.9 },
      { param: 20, pA: 0.5 },
    ]);
  });
});
