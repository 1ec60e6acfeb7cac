import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/program.js';
import { ResultsFile, readSidecar } from '../src/results/index.js';

/**
 * docs/cli.md "Guarantees": every write path of the CLI refuses a file that is not its own (exit 2, bytes
 * unchanged), locks hold across real processes, signals release them, and user errors are exit 2 before any
 * image is computed.
 */
const root = resolve(__dirname, '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const config = join(root, 'examples/mnist-onnx/config.json');
const onnx = join(root, 'models/mnist-k45-multichannel.onnx');
const dir = mkdtempSync(join(tmpdir(), 'ablate-guarantees-'));
chmodSync(dir, 0o777);
const small = ['--config', config, '--n0', '20', '--n', '100'];
let seq = 0;
const path = (name: string) => join(dir, `${++seq}-${name}`);

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (s: string) => ((stdout += s), true) }, stderr: { write: (s: string) => ((stderr += s), true) } };
  const code = await main(args, io as never);
  return { code, stdout, stderr };
}

const foreign: [string, () => Buffer][] = [
  ['text', () => Buffer.from('my notes\nline two\n')],
  ['JSON', () => Buffer.from('{\n  "keep": "me"\n}')],
  ['.onnx copy', () => readFileSync(onnx)],
];

describe('no write path of the CLI modifies a file that is not its own (exit 2, bytes unchanged)', () => {
  const plain = path('ours.jsonl');
  writeFileSync(plain, '{"index":0,"label":0,"prediction":0,"radius":3,"correct":true,"pLower":0.9,"nA":9,"n":10,"seconds":1}\n');

  it.each(foreign)('%s file', async (_, bytes) => {
    const content = bytes();
    const same = (file: string) => expect(readFileSync(file).equals(content)).toBe(true);
    const cases: [string, string[], string, RegExp][] = [];
    // 1. certify/predict --out a foreign file, without and with --resume
    const out = path('foreign-out');
    writeFileSync(out, content);
    cases.push(['results file', ['certify', ...small, '--count', '1', '--out', out], out, /already exists/]);
    cases.push(['results file, --resume', ['predict', ...small, '--count', '1', '--out', out, '--resume'], out, /has no sidecar .* left unchanged/]);
    // 2. the sidecar <out>.meta.json of a new results file
    const side = path('new.jsonl');
    writeFileSync(`${side}.meta.json`, content);
    cases.push(['sidecar', ['certify', ...small, '--count', '1', '--out', side], `${side}.meta.json`, /(is not an ablate sidecar|is not valid JSON)/]);
    // 3. the lock file <out>.lock
    const locked = path('locked.jsonl');
    writeFileSync(`${locked}.lock`, content);
    cases.push(['lock file', ['certify', ...small, '--count', '1', '--out', locked], `${locked}.lock`, /is not an ablate lock file/]);
    // 4. summarize --plot
    const plot = path('plot.svg');
    writeFileSync(plot, content);
    cases.push(['--plot', ['summarize', plain, '--plot', plot], plot, /is not a chart written by ablate summarize; it was left unchanged/]);
    // 5. train --out: a file, and a folder holding a file
    const trainFile = path('model-file');
    writeFileSync(trainFile, content);
    cases.push(['train --out file', ['train', '--architecture', 'tiny', '--count', '8', '--out', trainFile], trainFile, /is a file; train writes a folder/]);
    const trainDir = path('model-dir');
    mkdirSync(trainDir);
    writeFileSync(join(trainDir, 'model.json'), content);
    cases.push(['train --out folder', ['train', '--architecture', 'tiny', '--count', '8', '--out', trainDir], join(trainDir, 'model.json'), /already holds model.json; it was left unchanged/]);
    // 6. schema --out, and attack --save-examples (a file where the folder goes, and a foreign file inside it)
    const schemaOut = path('schema-out');
    writeFileSync(schemaOut, content);
    cases.push(['schema --out', ['schema', '--out', schemaOut], schemaOut, /exists and was not written by this command; it was left unchanged/]);
    const examplesFile = path('examples-file');
    writeFileSync(examplesFile, content);
    cases.push(['attack --save-examples file', ['attack', ...small, '--count', '1', '--target', 'base', '--save-examples', examplesFile], examplesFile, /--save-examples: .* is a file/]);
    const examplesDir = path('examples-dir');
    mkdirSync(examplesDir);
    writeFileSync(join(examplesDir, '0.png'), content);
    cases.push(['attack --save-examples folder', ['attack', ...small, '--count', '1', '--target', 'base', '--save-examples', examplesDir], join(examplesDir, '0.png'), /already holds 0.png; it was left unchanged/]);

    for (const [what, args, file, message] of cases) {
      const r = await run(args);
      expect({ what, code: r.code }).toEqual({ what, code: 2 });
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe(''); // refused before printing anything
      same(file);
    }
    expect(existsSync(side)).toBe(false); // no results file was started next to a foreign sidecar
    expect(readdirSync(trainDir)).toEqual(['model.json']);
    for (const f of [out, side]) expect(existsSync(`${f}.lock`)).toBe(false); // refused runs release their lock
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp') || f.endsWith('.stale'))).toEqual([]);
  });

  it('--plot replaces a chart it wrote itself; refuses folders and missing folders', async () => {
    const plot = path('curve.svg');
    expect((await run(['summarize', plain, '--plot', plot])).code).toBe(0);
    const first = readFileSync(plot, 'utf8');
    expect(first.startsWith('<svg')).toBe(true);
    expect((await run(['summarize', plain, plain, '--plot', plot])).code).toBe(0);
    expect(readFileSync(plot, 'utf8')).not.toBe(first);
    expect((await run(['summarize', plain, '--plot', dir])).stderr).toMatch(/--plot: .* is a folder/);
    expect((await run(['summarize', plain, '--plot', join(dir, 'nope/x.svg')])).code).toBe(2);
  });
});

describe('clear errors (exit 2) before any image is computed', () => {
  it('--out is a folder, its folder is missing, a broken link; corrupt or null sidecar in summarize', async () => {
    expect((await run(['certify', ...small, '--out', dir])).stderr).toMatch(/--out: .* is a folder \(give a file name/);
    expect((await run(['certify', ...small, '--out', join(dir, 'missing/r.jsonl')])).stderr).toMatch(/the folder .*missing does not exist/);
    const link = path('dangling.jsonl');
    symlinkSync(join(dir, 'nowhere/x'), link);
    expect((await run(['certify', ...small, '--out', link])).stderr).toMatch(/is a broken symbolic link/);
    for (const sidecar of ['null', '{"torn']) {
      const f = path('s.jsonl');
      writeFileSync(f, '{"index":0,"label":0,"prediction":0,"radius":1,"correct":true}\n');
      writeFileSync(`${f}.meta.json`, sidecar);
      const r = await run(['summarize', f]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/sidecar .*meta.json (holds null|is not valid JSON)/);
    }
  });

  it('numbers are quoted as written, with the real bounds', async () => {
    const r = await run(['certify', '--n', '99999999999999999999']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--n must be an integer from 1 to 1000000000, got 99999999999999999999');
    expect(r.stderr).not.toMatch(/1e\+?20/);
    expect((await run(['certify', '--alpha', '1e-400'])).stderr).toContain('--alpha: 1e-400 is too small to represent');
    expect((await run(['certify', '--sigma', '1e999'])).stderr).toContain('--sigma must be a finite number, got 1e999');
  });

  it('a config saved with a UTF-8 byte-order mark is read', async () => {
    const cfg = JSON.parse(readFileSync(config, 'utf8'));
    cfg.classifier.model = onnx;
    const file = path('bom.json');
    writeFileSync(file, `\uFEFF${JSON.stringify(cfg)}`);
    const r = await run(['certify', '--config', file, '--count', '1', '--n0', '10', '--n', '50']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).index).toBe(0);
  });

  it('image folder: broken links, link loops and files where folders belong are named', async () => {
    // the walk errors come before any PNG is decoded (z.png sorts after the bad entries)
    const make = () => {
      const data = path('images');
      mkdirSync(join(data, '0'), { recursive: true });
      writeFileSync(join(data, '0', 'z.png'), 'not decoded');
      return data;
    };
    const broken = make();
    symlinkSync(join(broken, 'gone'), join(broken, '0', 'b.png'));
    const loop = make();
    symlinkSync(join(loop, 'x'), join(loop, 'y'));
    symlinkSync(join(loop, 'y'), join(loop, 'x'));
    const brokenClass = make();
    symlinkSync(join(brokenClass, 'gone'), join(brokenClass, '1'));
    for (const [data, message] of [
      [broken, /0\/b.png: is a broken symbolic link/],
      [loop, /: is a symbolic link loop/],
      [brokenClass, /\/1: is a broken symbolic link/],
      [join(broken, '0', 'z.png'), /z.png: is a file, not a folder/],
    ] as const) {
      const r = await run(['certify', ...small, '--dataset', 'image-folder', '--data-path', data]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('as an unprivileged user (EACCES is real)', () => {
  const asNobody = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', uid: 65534, gid: 65534 });
  it.runIf(process.getuid?.() === 0)('an --out folder, an image folder or a train --out it may not use: exit 2 naming it', () => {
    const closed = path('closed');
    mkdirSync(closed, { mode: 0o755 }); // root's: nobody may not create files in it
    let r = asNobody(['certify', ...small, '--out', join(closed, 'r.jsonl')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--out: .* permission denied/);
    const data = path('images');
    mkdirSync(join(data, '0'), { recursive: true });
    chmodSync(join(data, '0'), 0o700);
    r = asNobody(['certify', ...small, '--dataset', 'image-folder', '--data-path', data]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/images\/0: cannot be read \(permission denied\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('two real processes on one --out; signals', () => {
  const waitFor = async (cond: () => boolean, ms = 120_000) => {
    const t0 = Date.now();
    while (!cond()) {
      if (Date.now() - t0 > ms) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').length - 1 : 0);

  it('a second writer is refused naming the holder; SIGINT and SIGTERM release the lock and leave the file resumable', async () => {
    const outs = [path('a.jsonl'), path('b.jsonl')];
    const children = outs.map((out) => spawn(process.execPath, [bin, 'certify', ...small, '--count', '500', '--out', out], { cwd: root, stdio: 'ignore' }));
    const exits = children.map((c) => new Promise<number | null>((done) => c.on('exit', (code) => done(code))));
    await waitFor(() => outs.every((o) => lines(o) >= 1));
    const second = spawnSync(process.execPath, [bin, 'certify', ...small, '--count', '500', '--out', outs[0]!, '--resume'], { cwd: root, encoding: 'utf8' });
    expect(second.status).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`is in use by another ablate run \\(pid ${children[0]!.pid} on `));
    children[0]!.kill('SIGINT');
    children[1]!.kill('SIGTERM');
    expect(await exits[0]).toBe(130);
    expect(await exits[1]).toBe(143);
    for (const out of outs) {
      expect(existsSync(`${out}.lock`)).toBe(false);
      expect(readFileSync(out, 'utf8').endsWith('\n')).toBe(true);
      const results = ResultsFile.open(out, { resume: true });
      expect(results.prepare(readSidecar(out)!).size).toBe(lines(out));
      results.close();
    }
  });

  it('stdout closed early (| head -1) ends quietly with exit 0', () => {
    const big = path('big.jsonl');
    writeFileSync(big, Array.from({ length: 3000 }, (_, i) => `{"index":${i},"label":0,"prediction":0,"radius":${i % 900},"correct":true}\n`).join(''));
    for (const cmd of [`summarize ${Array(10).fill(big).join(' ')}`, `certify ${small.join(' ')} --count 50`]) {
      const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${bin}" ${cmd} | head -1`], { cwd: root, encoding: 'utf8' });
      expect({ cmd, status: r.status }).toEqual({ cmd, status: 0 });
      expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
      expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
    }
  });
});
