import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { idxBytes } from '@ablate/testing';
import { MAX_ATTACK_RESTARTS, MAX_CONFIG_DEPTH, MAX_IMAGES_IN_FLIGHT } from '@ablate/core';
import { CLI_MAX_IMAGES_IN_FLIGHT, CLI_MAX_RESTARTS } from '../src/program.js';
import { summarize } from '../src/summary.js';
import { UsageError } from '../src/errors.js';
import { jsonlRows } from './helpers/ablate-process.js';

// Issue 20 §4–§5: files, devices and resources; errors that name the real problem; summaries that cannot be fooled.
const root = resolve(__dirname, '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const example = JSON.parse(readFileSync(join(root, 'examples/mnist-onnx/config.json'), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'ablate-files-cli-'));
/** The example config with the model path made absolute (so it can come from a pipe). */
const configText = JSON.stringify({ ...example, $schema: undefined, classifier: { ...example.classifier, model: join(root, 'models/mnist-k45-multichannel.onnx') } });
const config = join(dir, 'config.json');
writeFileSync(config, configText);

function ablate(args: string[], options: { input?: string } = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000, input: options.input });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}
const rows = jsonlRows;
const small = ['--n0', '20', '--n', '100'];

describe('files the user names: read once, size-capped, regular files only', () => {
  it('--config /dev/stdin from a pipe runs (the config is read once: plug-ins and the run see the same bytes)', () => {
    // a shell pipe (a FIFO), and a Node parent's stdin pipe (a socket)
    const shell = spawnSync('sh', ['-c', `cat "${config}" | "${process.execPath}" "${bin}" certify --config /dev/stdin ${small.join(' ')} --count 2`], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(shell.stderr).not.toMatch(/Unexpected end of JSON|ablate:/);
    expect(shell.status).toBe(0);
    const viaPipe = ablate(['certify', '--config', '/dev/stdin', ...small, '--count', '2'], { input: configText });
    expect(viaPipe.stderr).not.toMatch(/Unexpected end of JSON|ablate:/);
    expect(viaPipe.code).toBe(0);
    const fromFile = ablate(['certify', '--config', config, ...small, '--count', '2']);
    const strip = (text: string) => text.trim().split('\n').map((l) => ({ ...JSON.parse(l), seconds: 0 }));
    expect(strip(viaPipe.stdout)).toEqual(strip(fromFile.stdout));
    expect(strip(viaPipe.stdout)).toHaveLength(2);
    expect(strip(shell.stdout)).toEqual(strip(fromFile.stdout));
  });

  it('/dev/zero as --config or --curve-file, and an oversized config, are refused at once naming the flag and the cap', () => {
    const zero = ablate(['certify', '--config', '/dev/zero', '--count', '1']);
    expect(zero.signal).toBeNull();
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/^ablate: --config: \/dev\/zero is a device, not a regular file or a pipe \(give the path of a file of at most 4194304 bytes\)\n$/);
    const curve = ablate(['plan', '--perturbation', 'ablation', '--d', '784', '--retain', '45', '--curve-file', '/dev/zero']);
    expect(curve.code).toBe(2);
    expect(curve.stderr).toMatch(/--curve-file: \/dev\/zero is a device, not a regular file \(give the path of a file of at most 16777216 bytes\)/);
    const big = join(dir, 'big.json');
    writeFileSync(big, `{"seed": 0, "pad": "${'x'.repeat(4 * 1024 ** 2)}"}`);
    const r = ablate(['certify', '--config', big, '--count', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--config: .*big\.json is larger than the 4194304 bytes --config reads/);
  });

  it('--out /proc/self/fd/1 (a pipe or socket) is "not a regular file" naming --out', () => {
    const r = ablate(['certify', '--config', config, ...small, '--count', '1', '--out', '/proc/self/fd/1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ablate: --out: \/proc\/self\/fd\/1 is not a regular file \(a (pipe|socket)\)/);
    // and a shell pipe
    const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${bin}" certify --config "${config}" ${small.join(' ')} --count 1 --out /proc/self/fd/1 | cat`], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(piped.stderr).toMatch(/^ablate: --out: \/proc\/self\/fd\/1 is not a regular file \(a pipe\)/);
    expect(r.stderr).not.toMatch(/ENOENT|pipe:\[/);
  });
});

describe('image folders are checked from their PNG headers and decoded lazily', () => {
  it('30 PNGs declaring 4096×4096 (a model that wants 28×28): refused by the model-shape check with no image decoded', () => {
    // tiny greyscale PNGs whose headers declare 4096×4096 (eager decoding: 30 × 64 MiB of RGBA, then the planes)
    const chunk = (type: string, data: Buffer) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(data.length);
      return Buffer.concat([len, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(4096, 0);
    ihdr.writeUInt32BE(4096, 4);
    ihdr.set([8, 0, 0, 0, 0], 8);
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(4097))), chunk('IEND', Buffer.alloc(0))]);
    const data = join(dir, 'bombs');
    mkdirSync(join(data, '0'), { recursive: true });
    for (let i = 0; i < 30; i++) writeFileSync(join(data, '0', `${i}.png`), png);
    const script = `
      const { main } = await import(${JSON.stringify(join(root, 'packages/cli/dist/index.js'))});
      const err = [];
      const code = await main(['certify', '--config', ${JSON.stringify(config)}, '--dataset', 'image-folder', '--data-path', ${JSON.stringify(data)}, '--count', '1'], { stdout: process.stdout, stderr: { write: (s) => err.push(s) } });
      console.log(JSON.stringify({ code, stderr: err.join(''), maxRssMiB: process.resourceUsage().maxRSS / 1024 }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/takes input "input" of shape \[N, 2, 28, 28\], but the encoder produces \[N, 2, 4096, 4096\]/);
    expect(out.maxRssMiB).toBeLessThan(600); // ~170 MiB here (node + ONNX Runtime); eager decoding needs > 2 GiB
  });
});

describe('errors that name the real problem', () => {
  it('a config nested 2 000 levels deep is a config error naming the nesting, not a stack overflow', () => {
    const deep = join(dir, 'deep.json');
    writeFileSync(deep, configText.replace(/}$/, `, "extra": ${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}`));
    const r = ablate(['certify', '--config', deep, '--count', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/Maximum call stack/);
    expect(r.stderr).toMatch(new RegExp(`invalid config:\\n  /extra(/a){${MAX_CONFIG_DEPTH - 1}}: is nested more than ${MAX_CONFIG_DEPTH} levels deep`));
  });

  it('an IDX file declaring images of height 0 blames the dataset file (not "choose retain ≤ 0")', () => {
    const data = join(dir, 'idx-height-0');
    mkdirSync(data);
    writeFileSync(join(data, 't10k-images-idx3-ubyte'), idxBytes([1, 0, 28]));
    writeFileSync(join(data, 't10k-labels-idx1-ubyte'), idxBytes([1], [7]));
    const r = ablate(['certify', '--config', config, '--data-path', data, '--count', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/t10k-images-idx3-ubyte: declares images of 0×28 pixels \(IDX dimensions 1×0×28\): an image needs at least one pixel/);
    expect(r.stderr).not.toMatch(/retain/);
  });

  it('attack with the vote-gap certifier is "unsupported" before any file is created', () => {
    const out = join(dir, 'vote-gap-attack.jsonl');
    const ex = join(dir, 'vote-gap-examples');
    const r = ablate(['attack', '--config', config, '--perturbation', 'partition', '--parts', '7', '--certifier', 'vote-gap', '--count', '1', '--out', out, '--save-examples', ex]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ablate: --certifier: attack does not support the vote-gap certifier: .*\(attack with a randomized certifier \(cohen, lecuyer or sequential\), or attack the base model with --target base\)\n$/);
    for (const f of [out, `${out}.meta.json`, `${out}.lock`, ex]) expect(existsSync(f)).toBe(false);
  });

  it('attack --restarts 1e9 is refused naming the flag and the limit (flag and config alike)', () => {
    expect(CLI_MAX_RESTARTS).toBe(MAX_ATTACK_RESTARTS);
    expect(CLI_MAX_IMAGES_IN_FLIGHT).toBe(MAX_IMAGES_IN_FLIGHT);
    const r = ablate(['attack', '--config', config, '--restarts', '1e9', '--count', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--restarts must be an integer from 1 to 10000, got 1e9/);
    const viaConfig = join(dir, 'restarts.json');
    writeFileSync(viaConfig, JSON.stringify({ ...JSON.parse(configText), attack: { type: 'pointwise', restarts: 1e9 } }));
    const c = ablate(['attack', '--config', viaConfig, '--count', '1']);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/\/attack\/restarts: must be ≤ 10000, got 1000000000/);
  });
});

describe('attack --save-examples --resume never replaces a file ablate did not write', () => {
  const attack = (out: string, ex: string, count: number, resume: boolean) =>
    ablate(['attack', '--config', config, '--target', 'base', '--restarts', '1', '--count', String(count), '--out', out, '--save-examples', ex, ...(resume ? ['--resume'] : [])]);

  it('a foreign DIR/1.png is left unchanged; the example a killed run wrote before its row is accepted', () => {
    // reference: both images' examples
    const refOut = join(dir, 'ref.jsonl');
    const refEx = join(dir, 'ref-ex');
    expect(attack(refOut, refEx, 2, false).code).toBe(0);
    expect(rows(refOut).map((r) => r.magnitude > 0)).toEqual([true, true]);
    // a run with image 0 done, then someone's file named 1.png in the folder
    const out = join(dir, 'foreign.jsonl');
    const ex = join(dir, 'foreign-ex');
    expect(attack(out, ex, 1, false).code).toBe(0);
    const model = readFileSync(join(root, 'models/mnist-k45-multichannel.onnx'));
    writeFileSync(join(ex, '1.png'), model);
    const r = attack(out, ex, 2, true);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--save-examples: .*foreign-ex\/1\.png exists and is not the example this run computed; it was left unchanged/);
    expect(readFileSync(join(ex, '1.png')).equals(model)).toBe(true);
    expect(rows(out).map((x) => x.index)).toEqual([0]); // no row without its example
    // two files for images without rows: refused before any image is attacked
    writeFileSync(join(ex, '2.png'), 'mine');
    const two = attack(out, ex, 3, true);
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/holds 1\.png, 2\.png for images the results file has no row of; it was left unchanged/);
    expect(readFileSync(join(ex, '2.png'), 'utf8')).toBe('mine');
    // a killed run: row 0 and the example of image 1 written, row 1 not yet — the resume finishes it
    const killed = join(dir, 'killed.jsonl');
    const killedEx = join(dir, 'killed-ex');
    mkdirSync(killedEx);
    writeFileSync(killed, `${readFileSync(refOut, 'utf8').split('\n')[0]}\n`);
    copyFileSync(`${refOut}.meta.json`, `${killed}.meta.json`);
    for (const f of ['0.png', '1.png']) copyFileSync(join(refEx, f), join(killedEx, f));
    const resumed = attack(killed, killedEx, 2, true);
    expect(resumed.stderr).not.toMatch(/ablate:/);
    expect(resumed.code).toBe(0);
    expect(rows(killed).map(({ seconds: _s, ...x }) => x)).toEqual(rows(refOut).map(({ seconds: _s, ...x }) => x));
    expect(readFileSync(join(killedEx, '1.png')).equals(readFileSync(join(refEx, '1.png')))).toBe(true);
  });
});

describe('summarize cannot be fooled', () => {
  const file = (lines: object[]) => {
    const f = join(dir, `summary-${Math.random().toString(36).slice(2)}.jsonl`);
    writeFileSync(f, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    return f;
  };
  const certifyRow = (index: number) => ({ index, label: 1, prediction: 1, radius: 3, correct: true, pLower: 0.9, nA: 90, n: 100, samples: 120, seconds: 0.1 });
  const attackRow = (index: number) => ({ index, label: 1, magnitude: null, restarts: 1, queries: 5, samples: 5, seconds: 0.1 });
  const refused = (f: string, message: RegExp) => {
    expect(() => summarize(f)).toThrow(UsageError);
    expect(() => summarize(f)).toThrow(message);
  };

  it('a file mixing certify and attack rows is refused with the line number', () => {
    refused(file([certifyRow(0), certifyRow(1), attackRow(2)]), /:3 is an attack row, but line 1 is a certify row: a results file holds the rows of one run/);
    refused(file([attackRow(0), certifyRow(1)]), /:2 is a certify row, but line 1 is an attack row/);
    refused(file([certifyRow(0), { index: 1, label: 1, prediction: 1, correct: true, pValue: 0.01, nA: 90, nB: 3, n: 100, samples: 100, seconds: 0 }]), /:2 is a predict row, but line 1 is a certify row/);
  });

  it.each([
    [{ ...certifyRow(1), prediction: 5 }, /:2 contradicts itself: "correct" is true but the prediction is 5 and the label 1/],
    [{ ...certifyRow(1), prediction: 5, correct: false, label: 5 }, /:2 contradicts itself: "correct" is false but the prediction is 5 and the label 5/],
    [{ ...certifyRow(1), prediction: null, correct: false }, /:2 contradicts itself: an abstention \(prediction null\) with radius 3/],
    [{ ...certifyRow(1), radius: null }, /:2 contradicts itself: prediction 1 without a radius/],
    [{ ...certifyRow(1), nA: 999999 }, /:2 contradicts itself: nA 999999 votes out of n = 100 samples/],
    [{ ...certifyRow(1), pLower: 7 }, /:2 has a "pLower" outside \[0, 1\] \(got 7\)/],
    [{ ...certifyRow(1), n: 10.5 }, /:2 has a "n" that is not a count/],
    [{ ...certifyRow(1), label: -1, correct: false }, /:2 has a "label" that is not a class number/],
  ])('a row that contradicts itself is refused with its line number (%#)', (bad, message) => {
    refused(file([certifyRow(0), bad]), message);
  });

  it('consistent rows still summarize (abstentions and wrong predictions included)', () => {
    const s = summarize(file([certifyRow(0), { ...certifyRow(1), prediction: null, radius: null, correct: false, pLower: 0.4 }, { ...certifyRow(2), prediction: 4, correct: false }]));
    expect(s.count).toBe(3);
    expect(s.accuracy).toBe(1 / 3);
    expect(s.abstainRate).toBe(1 / 3);
    expect(s.medianCertifiedRadius).toBeNull();
  });
});
