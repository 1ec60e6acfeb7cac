import * as fs from 'node:fs';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ResultsFile, ResultsWriteError, firstDifference, modelFingerprint, readMeta, SIDECAR_FORMAT, SIDECAR_VERSION, type RunMeta, type ResultsFs } from '../src/results/index.js';
import { UsageError } from '../src/errors.js';

const root = resolve(__dirname, '../../..');
const onnx = join(root, 'models/mnist-k45-multichannel.onnx');
const dir = mkdtempSync(join(tmpdir(), 'ablate-results-'));
let seq = 0;
const fresh = (name = 'r') => join(dir, `${name}-${++seq}.jsonl`);

const meta = (over: Partial<RunMeta> = {}): RunMeta => ({
  format: SIDECAR_FORMAT,
  version: SIDECAR_VERSION,
  command: 'certify',
  perturbation: 'ablation(k=45)',
  unit: 'pixels',
  config: { seed: 0, batchSize: 100, perturbation: { type: 'ablation', retain: 45 }, classifier: { type: 'onnx', model: 'm.onnx', executionProviders: ['cpu'] } },
  model: { path: '/m.onnx', sha256: 'a'.repeat(64), files: ['/m.onnx'] },
  rowKeys: ['index', 'label', 'note'],
  datasetSize: 100,
  started: '2026-01-01T00:00:00.000Z',
  ...over,
});
const row = (index: number, note = 'ok') => ({ index, label: index % 10, note });
const line = (index: number, note = 'ok') => `${JSON.stringify(row(index, note))}\n`;

/** Writes a results file of this run the way a killed run leaves it. */
function written(rows: number[], tail = '', m = meta()): string {
  const file = fresh();
  const r = ResultsFile.open(file, { resume: false });
  r.prepare(m);
  for (const i of rows) r.append(row(i, 'κ–é')); // multi-byte characters: byte offsets ≠ string offsets
  r.close();
  if (tail) fs.appendFileSync(file, tail);
  return file;
}

function refused(fn: () => unknown, message: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(UsageError);
  expect((error as Error).message).toMatch(message);
}

/** Opens and prepares for resume; always closes (releases the lock). */
function resume(file: string, m = meta(), fsImpl?: ResultsFs): Set<number> {
  const r = ResultsFile.open(file, { resume: true, fs: fsImpl });
  try {
    return new Set(r.prepare(m));
  } finally {
    r.close();
  }
}

describe('ResultsFile: a fresh run', () => {
  it('writes whole lines, the sidecar, and removes its lock on close', () => {
    const file = fresh();
    const r = ResultsFile.open(file, { resume: false });
    expect(existsSync(`${file}.lock`)).toBe(true);
    const lock = JSON.parse(readFileSync(`${file}.lock`, 'utf8'));
    expect(lock).toMatchObject({ pid: process.pid, hostname: hostname() });
    r.prepare(meta());
    r.append(row(3));
    r.append(row(1));
    r.close();
    expect(existsSync(`${file}.lock`)).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe(line(3) + line(1));
    expect(JSON.parse(readFileSync(`${file}.meta.json`, 'utf8'))).toEqual(meta());
    expect(readMeta(file)).toMatchObject({ perturbation: 'ablation(k=45)', unit: 'pixels' });
  });

  it('refuses rows that are not of this run (wrong keys, index outside the dataset, twice)', () => {
    const r = ResultsFile.open(fresh(), { resume: false });
    r.prepare(meta());
    r.append(row(0));
    expect(() => r.append({ index: 1, label: 1 } as never)).toThrow(/row keys/);
    expect(() => r.append(row(100))).toThrow(/outside \[0, 100\)/);
    expect(() => r.append(row(0))).toThrow(/already in/);
    r.close();
  });

  it('refuses a non-empty file without --resume, and never overwrites a sidecar that is not ours', () => {
    const file = written([0]);
    const before = readFileSync(file);
    refused(() => ResultsFile.open(file, { resume: false }), /already exists.*--resume/);
    expect(readFileSync(file).equals(before)).toBe(true);
    const other = fresh();
    writeFileSync(`${other}.meta.json`, '{"my": "notes"}\n');
    const r = ResultsFile.open(other, { resume: false });
    refused(() => r.prepare(meta()), /is not an ablate sidecar/);
    r.close();
    expect(readFileSync(`${other}.meta.json`, 'utf8')).toBe('{"my": "notes"}\n');
    expect(existsSync(other)).toBe(false);
  });
});

describe('ResultsFile: resume validates first, then cuts a torn line by byte offset', () => {
  it('cuts exactly the torn bytes after the last newline (multi-byte rows)', () => {
    const file = written([0, 1, 2], '{"index":7,"label":7,"note":"κ–');
    const complete = Buffer.concat([0, 1, 2].map((i) => Buffer.from(line(i, 'κ–é'))));
    expect(resume(file)).toEqual(new Set([0, 1, 2]));
    expect(readFileSync(file).equals(complete)).toBe(true);
    // resuming then appends right after the last complete row
    const r = ResultsFile.open(file, { resume: true });
    r.prepare(meta());
    r.append(row(7));
    r.close();
    expect(readFileSync(file, 'utf8')).toBe(`${complete.toString('utf8')}${line(7)}`);
  });

  it('a torn line of only the first bytes of a row is cut too', () => {
    const file = written([4], '{"ind');
    expect(resume(file)).toEqual(new Set([4]));
    expect(readFileSync(file, 'utf8')).toBe(line(4, 'κ–é'));
  });

  const foreign: [string, () => Buffer][] = [
    ['a text file', () => Buffer.from('dear diary\nsecond line\nno newline at the end')],
    ['a JSON file', () => Buffer.from('{\n  "a": 1,\n  "b": [1, 2]\n}')],
    ['a copy of an .onnx model', () => readFileSync(onnx)],
  ];
  it.each(foreign)('%s with a valid sidecar of this run is left byte-for-byte unchanged', (_, bytes) => {
    const file = fresh();
    const content = bytes();
    writeFileSync(file, content);
    refused(() => resume(file), /--resume: .*has no sidecar/);
    expect(readFileSync(file).equals(content)).toBe(true);
    // even next to a sidecar of this run (copied from a real results file), the rows prove it is not ours
    copyFileSync(`${written([0])}.meta.json`, `${file}.meta.json`);
    refused(() => resume(file), /:1 (is not JSON|is not a JSON object|has the keys)/);
    expect(readFileSync(file).equals(content)).toBe(true);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it.each([
    ['wrong keys', '{"index":1,"label":1}\n', /:2 has the keys index, label, not index, label, note/],
    ['index outside the dataset', '{"index":100,"label":0,"note":"x"}\n', /:2 has index 100, not an integer in \[0, 100\)/],
    ['a non-integer index', '{"index":1.5,"label":0,"note":"x"}\n', /:2 has index 1.5/],
    ['an index twice', line(0), /:2 repeats index 0 \(line 1\)/],
    ['a torn tail that is not a row', 'hello', /:2 is an unfinished line that does not begin like a row/],
  ])('%s → refused, file unchanged', (_, extra, message) => {
    const file = written([0], extra);
    const before = readFileSync(file);
    refused(() => resume(file), message);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('names the first differing field; exempt fields (batch size, execution providers, start time) may differ', () => {
    const file = written([0]);
    const m = meta();
    const changed = { ...m, config: { ...m.config, perturbation: { type: 'ablation', retain: 20 } } };
    refused(() => resume(file, changed), /was written by a different run: \/config\/perturbation\/retain was 45, this run has 20/);
    refused(() => resume(file, { ...m, rowKeys: ['index', 'label', 'note', 'predict'] }), /\/rowKeys\/3 was \(absent\), this run has "predict"/);
    refused(() => resume(file, { ...m, model: { ...m.model!, sha256: 'b'.repeat(64) } }), /the model \/m.onnx changed since .* \(sha-256 aaaaaaaaaaaa… then, bbbbbbbbbbbb… now\)/);
    const exempt = { ...m, started: 'later', model: { ...m.model!, path: '/moved/m.onnx' }, config: { ...m.config, batchSize: 7, classifier: { type: 'onnx', model: 'm.onnx', executionProviders: ['cuda'] } } };
    expect(resume(file, exempt)).toEqual(new Set([0]));
    expect(firstDifference({ a: { b: [1, 2] } }, { a: { b: [1, 3] } })).toEqual({ path: '/a/b/1', stored: 2, current: 3 });
  });

  it('a corrupt, null or old-version sidecar is named and nothing is changed', () => {
    for (const [text, message] of [
      ['{"command": "certify", "conf', /sidecar .* is not valid JSON/],
      ['null', /sidecar .* holds null, not an ablate run description/],
      [JSON.stringify({ command: 'certify', perturbation: 'ablation(k=45)', unit: 'pixels', config: {}, started: 'x' }), /written by an older ablate, without a model fingerprint/],
    ] as const) {
      const file = written([0], '{"ind');
      writeFileSync(`${file}.meta.json`, text);
      const before = readFileSync(file);
      refused(() => resume(file), message);
      expect(readFileSync(file).equals(before)).toBe(true);
      expect(readFileSync(`${file}.meta.json`, 'utf8')).toBe(text);
    }
  });
});

describe('ResultsFile: short writes and a failing disk (injected fs)', () => {
  it('loops until every byte is written', () => {
    const calls: number[] = [];
    const shortFs: ResultsFs = {
      ...fs,
      writeSync: ((fd: number, buffer: Buffer, offset: number, length: number) => {
        const n = fs.writeSync(fd, buffer, offset, Math.min(length, 5)); // at most 5 bytes per call
        calls.push(n);
        return n;
      }) as typeof fs.writeSync,
    };
    const file = fresh();
    const r = ResultsFile.open(file, { resume: false, fs: shortFs });
    r.prepare(meta());
    r.append(row(0, 'κ–é'));
    r.append(row(1));
    r.close();
    expect(readFileSync(file, 'utf8')).toBe(line(0, 'κ–é') + line(1));
    expect(calls.length).toBeGreaterThan(8);
  });

  it.each([
    ['ENOSPC', 'write', /no space left on the device \(ENOSPC\); it holds 2 complete rows/],
    ['EIO', 'fsync', /input\/output error of the device \(EIO\); it holds 2 complete rows/],
  ])('%s during %s: exit-1 error naming the file, rolled back to whole rows, resumable', (code, where, message) => {
    let budget = Infinity;
    const failing: ResultsFs = {
      ...fs,
      writeSync: ((fd: number, buffer: Buffer, offset: number, length: number) => {
        if (where === 'write' && budget <= 0) {
          fs.writeSync(fd, buffer, offset, Math.min(length, 7)); // part of the row reaches the disk, then it is full
          throw Object.assign(new Error(code), { code });
        }
        return fs.writeSync(fd, buffer, offset, length);
      }) as typeof fs.writeSync,
      fsyncSync: ((fd: number) => {
        budget--;
        if (where === 'fsync' && budget < 0) throw Object.assign(new Error(code), { code });
        fs.fsyncSync(fd);
      }) as typeof fs.fsyncSync,
    };
    const file = fresh();
    const r = ResultsFile.open(file, { resume: false, fs: failing });
    r.prepare(meta());
    budget = 2;
    r.append(row(0));
    r.append(row(1));
    let error: unknown;
    try {
      r.append(row(2));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ResultsWriteError);
    expect(error).not.toBeInstanceOf(UsageError); // exit 1, not 2
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toMatch(message);
    expect(() => r.append(row(3))).toThrow(ResultsWriteError); // no more writes after a failure
    r.close();
    expect(readFileSync(file, 'utf8')).toBe(line(0) + line(1));
    expect(resume(file)).toEqual(new Set([0, 1]));
  });
});

describe('RunLock (in one process; two processes: guarantees.test.ts)', () => {
  it('a second writer is refused naming the holder; a foreign .lock file is left alone', () => {
    const file = fresh();
    const first = ResultsFile.open(file, { resume: false });
    refused(() => ResultsFile.open(file, { resume: true }), new RegExp(`is in use by another ablate run \\(pid ${process.pid} on `));
    first.close();
    ResultsFile.open(file, { resume: true }).close();
    writeFileSync(`${file}.lock`, 'my shopping list\n');
    refused(() => ResultsFile.open(file, { resume: true }), /\.lock exists and is not an ablate lock file/);
    expect(readFileSync(`${file}.lock`, 'utf8')).toBe('my shopping list\n');
  });

  it('locks the file, not the name: a second writer through a hard link is refused (resumed and fresh files)', () => {
    // a resumed file reached by two names: both <name>.lock files can be taken, the identity lock cannot
    const file = written([0, 1]);
    const link = join(dir, `hard-link-${++seq}.jsonl`);
    fs.linkSync(file, link);
    copyFileSync(`${file}.meta.json`, `${link}.meta.json`);
    const first = ResultsFile.open(file, { resume: true });
    first.prepare(meta());
    refused(() => ResultsFile.open(link, { resume: true }), new RegExp(`in use by another ablate run \\(pid ${process.pid} .*writing it as .*${file.split('/').pop()}: the same file under another name`));
    expect(existsSync(`${link}.lock`)).toBe(false); // the refused run released its name lock
    first.append(row(2));
    first.close();
    expect([...resume(link)].sort()).toEqual([0, 1, 2]); // free again once the first run is over
    // a fresh file gets its identity lock when it is created: a hard link made during the run is refused too
    const created = fresh();
    const writer = ResultsFile.open(created, { resume: false });
    writer.prepare(meta());
    writer.append(row(0));
    const alias = join(dir, `hard-link-${++seq}.jsonl`);
    fs.linkSync(created, alias);
    copyFileSync(`${created}.meta.json`, `${alias}.meta.json`);
    refused(() => ResultsFile.open(alias, { resume: true }), /the same file under another name/);
    writer.close();
    expect([...resume(alias)]).toEqual([0]);
    expect(readFileSync(created, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('a sidecar that is a FIFO is refused at once, never read (resume and summarize)', async () => {
    const file = written([0]);
    fs.unlinkSync(`${file}.meta.json`);
    expect(spawnSync('mkfifo', [`${file}.meta.json`]).status).toBe(0);
    refused(() => resume(file), /the sidecar .*\.meta\.json is not a regular file; it was left unchanged/);
    const { summarize } = await import('../src/summary.js');
    const rowsFile = fresh();
    writeFileSync(rowsFile, `${JSON.stringify({ index: 0, label: 1, prediction: 1, radius: 2, correct: true })}\n`);
    expect(spawnSync('mkfifo', [`${rowsFile}.meta.json`]).status).toBe(0);
    refused(() => summarize(rowsFile), /FILE: .*\.meta\.json is a pipe, not a regular file/);
  });

  it('the stale lock of a dead process on this host is recovered', () => {
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const pid = Number(dead.stdout.trim());
    const file = fresh();
    writeFileSync(`${file}.lock`, JSON.stringify({ lock: 'ablate-results-lock', pid, hostname: hostname(), started: 'x', token: 'dead' }));
    const r = ResultsFile.open(file, { resume: false });
    expect(JSON.parse(readFileSync(`${file}.lock`, 'utf8')).pid).toBe(process.pid);
    r.close();
    expect(existsSync(`${file}.lock`)).toBe(false);
    // a lock from another host cannot be probed: refused, naming it
    writeFileSync(`${file}.lock`, JSON.stringify({ lock: 'ablate-results-lock', pid, hostname: 'elsewhere', started: 'x', token: 't' }));
    refused(() => ResultsFile.open(file, { resume: false }), new RegExp(`pid ${pid} on elsewhere.*delete .*\\.lock`));
  });
});

describe('modelFingerprint', () => {
  it('is the sha-256 of an .onnx file', () => {
    const f = modelFingerprint(onnx, '/')!;
    const expected = spawnSync('sha256sum', [onnx], { encoding: 'utf8' }).stdout.split(' ')[0];
    expect(f.sha256).toBe(expected);
  });

  it('hashes a tfjs folder deterministically from model.json and its weight files', () => {
    const folder = join(dir, 'tfjs');
    mkdirSync(folder);
    writeFileSync(join(folder, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['b.bin', 'a.bin'], weights: [] }] }));
    writeFileSync(join(folder, 'a.bin'), Buffer.from([1, 2, 3]));
    writeFileSync(join(folder, 'b.bin'), Buffer.from([4, 5]));
    writeFileSync(join(folder, 'notes.txt'), 'not part of the model');
    const a = modelFingerprint('tfjs', dir)!;
    expect(a.files).toEqual(['a.bin', 'b.bin', 'model.json']);
    expect(modelFingerprint(join(folder, 'model.json'), '/')!.sha256).toBe(a.sha256);
    writeFileSync(join(folder, 'notes.txt'), 'changed notes');
    expect(modelFingerprint(folder, '/')!.sha256).toBe(a.sha256);
    writeFileSync(join(folder, 'a.bin'), Buffer.from([1, 2, 4]));
    expect(modelFingerprint(folder, '/')!.sha256).not.toBe(a.sha256);
  });
});
