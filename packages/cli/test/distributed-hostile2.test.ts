import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clopperPearsonLower, createContainer, radiusFunction, type AblateRuntime } from '@ablate/core';
import '@ablate/backend-onnx';
import '@ablate/datasets';
import { computeRow, type CertifyRow } from '../src/commands/run-dataset.js';
import { configHash, type JobData } from '../src/distributed/jobs.js';
import { defaultModelCache, fetchModel, modelKey, prepareModelCache } from '../src/distributed/model-store.js';

// Issue 20 §1: the queue is shared infrastructure, so every job and every result that comes out of Redis is input.
// A real redis-server, real `ablate worker` / coordinator processes, forged jobs written with BullMQ directly, and a
// rogue BullMQ worker in this process that answers the coordinator's jobs with forged rows.
const root = resolve(__dirname, '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const modelFile = join(root, 'models/mnist-k45-multichannel.onnx');
const modelBytes = readFileSync(modelFile);
const modelSha = createHash('sha256').update(modelBytes).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'ablate-hostile2-'));
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;

const exampleConfig = JSON.parse(readFileSync(join(root, 'examples/mnist-onnx/config.json'), 'utf8'));
/** A job's config as a coordinator sends it: validated, paths absolute, small n. */
const jobConfig = (alpha = 0.05) => ({ ...exampleConfig, classifier: { ...exampleConfig.classifier, model: modelFile }, certifier: { type: 'cohen', alpha, n0: 50, n: 200 } });
const jobData = (config: Record<string, unknown>, model: JobData['model'], over: Partial<JobData> = {}): JobData => ({
  v: 1,
  runId: '0123456789abcdef',
  kind: 'certify',
  start: 0,
  count: 1,
  config,
  configHash: configHash('certify', config, model.sha256),
  model,
  ...over,
});

const children: ChildProcess[] = [];
interface Proc {
  proc: ChildProcess;
  text(): string;
  exit: Promise<number | null>;
}
function ablate(args: string[], env: Record<string, string> = {}): Proc {
  const proc = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(proc);
  let text = '';
  proc.stdout!.on('data', (d) => (text += d));
  proc.stderr!.on('data', (d) => (text += d));
  const exit = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return { proc, text: () => text, exit };
}
async function waitFor(what: string, pred: () => boolean | Promise<boolean>, ms = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!(await pred())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
const rows = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

let redisProc: ChildProcess;
let port: number;
let url: string;
const connection = () => ({ host: '127.0.0.1', port, maxRetriesPerRequest: null });
const cacheDir = join(dir, 'cache');

describe.skipIf(!hasRedis)("hostile pass (issue 20 follow-up): what a forged job can make a worker read", { timeout: 240_000 }, () => {
  beforeAll(async () => {
    port = await freePort();
    const data = mkdtempSync(join(dir, 'redis-'));
    redisProc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', data, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(redisProc);
    let log = '';
    redisProc.stdout!.on('data', (d) => (log += d));
    await waitFor('redis-server', () => /Ready to accept connections/.test(log), 30_000);
    url = `redis://127.0.0.1:${port}`;
  });
  afterEach(() => {
    for (const c of children) if (c !== redisProc && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  async function worker(args: string[]): Promise<Proc> {
    const w = ablate(['worker', '--queue', url, '--threads', '1', '--lock-duration', '10000', '--stalled-interval', '1000', '--model-cache', cacheDir, ...args]);
    await waitFor('a worker to be ready', () => /ready: queue/.test(w.text()) || w.proc.exitCode !== null);
    expect(w.proc.exitCode, w.text()).toBe(null);
    return w;
  }
  async function settled(queue: Queue, id: string): Promise<Job> {
    let job: Job | undefined;
    await waitFor(`job ${id} to finish`, async () => {
      job = await queue.getJob(id);
      const state = job ? await job.getState() : 'missing';
      return state === 'completed' || state === 'failed';
    });
    return (await queue.getJob(id))!;
  }

  it('a dataset folder under --model-root whose class folder or image is a link to a folder outside the roots is refused (the rows would reveal those images)', async () => {
    const roots = join(dir, 'roots');
    const outside = join(dir, 'outside');
    const examples = join(root, 'reproduction/results/table2-k45-examples');
    mkdirSync(join(outside, 'secret'), { recursive: true });
    for (const f of ['0.png', '1.png']) copyFileSync(join(examples, f), join(outside, 'secret', f));
    // ds-dir: a class folder that is a link out; ds-file: a real class folder holding a link to an image out;
    // ds-ok: real files only
    mkdirSync(join(roots, 'ds-dir'), { recursive: true });
    symlinkSync(join(outside, 'secret'), join(roots, 'ds-dir', '3'));
    mkdirSync(join(roots, 'ds-file', '3'), { recursive: true });
    symlinkSync(join(outside, 'secret', '0.png'), join(roots, 'ds-file', '3', '0.png'));
    mkdirSync(join(roots, 'ds-ok', '3'), { recursive: true });
    copyFileSync(join(examples, '0.png'), join(roots, 'ds-ok', '3', '0.png'));
    // an inner link that stays under the roots is fine
    mkdirSync(join(roots, 'ds-inner', '3'), { recursive: true });
    symlinkSync(join(roots, 'ds-ok', '3', '0.png'), join(roots, 'ds-inner', '3', '0.png'));
    const w = await worker(['--queue-name', 'reads', '--model-root', roots]);
    const queue = new Queue('reads', { connection: connection() });
    const config = jobConfig();
    const admin = new Redis(connection());
    await admin.set(modelKey(modelSha), modelBytes);
    admin.disconnect();
    const cases = ['ds-dir', 'ds-file', 'ds-ok', 'ds-inner'];
    for (const name of cases) {
      const c = { ...config, dataset: { type: 'image-folder', path: join(roots, name) } };
      await queue.add('certify', jobData(c, { transfer: 'redis', sha256: modelSha }), { jobId: name, attempts: 1 });
    }
    const outcome: Record<string, string> = {};
    for (const name of cases) {
      const job = await settled(queue, name);
      outcome[name] = job.failedReason ?? `label ${job.returnvalue.rows[0].label}`;
    }
    // (before: ds-dir and ds-file were certified like ds-ok, from the images outside the roots)
    expect(outcome).toEqual({
      'ds-dir': "the job's dataset path is not a folder under this worker's --model-root folders",
      'ds-file': "the job's dataset path is not a folder under this worker's --model-root folders",
      'ds-ok': 'label 0',
      'ds-inner': 'label 0',
    });
    expect(w.proc.exitCode).toBe(null);
    await queue.obliterate({ force: true });
    await queue.close();
    w.proc.kill('SIGTERM');
    await w.exit;
  });

  describe('a rogue worker (BullMQ directly)', () => {
    let rt: AblateRuntime;
    beforeAll(async () => {
      rt = await createContainer(jobConfig() as never, { baseDir: root });
    });
    afterAll(async () => {
      await rt.dispose();
    });
    const coordinatorArgs = (name: string, out: string, extra: string[] = []) => ['certify', '--config', join(root, 'examples/mnist-onnx/config.json'), '--n0', '50', '--n', '200', '--count', '2', '--job-size', '1', '--out', out, '--queue', url, '--queue-name', name, '--poll-ms', '50', '--backoff', '0', ...extra];
    function rogue(name: string, answer: (rows: CertifyRow[]) => unknown): { close(): Promise<void> } {
      const w = new Worker(
        name,
        async (job: Job) => {
          const data = job.data as JobData;
          const out: CertifyRow[] = [];
          for (let i = data.start; i < data.start + data.count; i++) out.push((await computeRow(rt, 'certify', i)) as CertifyRow);
          return answer(out);
        },
        { connection: connection() },
      );
      w.on('error', () => {});
      return { close: () => w.close() };
    }

    it('its self-chosen worker name cannot write terminal escapes or megabytes into the coordinator’s log', async () => {
      const name = '\u001b[2J\u001b]0;pwned\u0007' + 'W'.repeat(200_000);
      const r = rogue('escape', (rows) => ({ rows, worker: name }));
      const out = join(dir, 'escape.jsonl');
      const coord = ablate(coordinatorArgs('escape', out));
      expect(await coord.exit, coord.text().slice(0, 2000)).toBe(0);
      await r.close();
      expect(rows(out).map((x) => x.index).sort()).toEqual([0, 1]);
      // (before: both progress lines carried the raw name: ESC sequences and 400 000 W's)
      expect(coord.text()).not.toContain('\u001b');
      expect(coord.text()).not.toContain('\u0007');
      expect(coord.text().length).toBeLessThan(20_000);
    });
  });

  it('a database number the server does not have is an error naming --queue, not a silent fall-back to database 0', async () => {
    const bad = `${url}/99999`;
    const w = ablate(['worker', '--queue', bad, '--queue-name', 'nodb', '--model-cache', cacheDir]);
    // (before: "ready: queue "nodb" on …/99999" while serving database 0)
    expect(await w.exit, w.text()).toBe(2);
    expect(w.text()).toContain(`ablate: --queue: Redis at ${bad} has no database 99999 (ERR DB index is out of range)`);
    const out = join(dir, 'nodb.jsonl');
    const coord = ablate(['certify', '--config', join(root, 'examples/mnist-onnx/config.json'), '--n0', '50', '--n', '200', '--count', '1', '--out', out, '--queue', bad, '--queue-name', 'nodb']);
    expect(await coord.exit, coord.text()).toBe(2);
    expect(coord.text()).toContain(`ablate: --queue: Redis at ${bad} has no database 99999`);
    expect(coord.text()).not.toMatch(/jobs on queue|\n\s+at /);
    // nothing was enqueued in database 0 either
    const admin = new Redis(connection());
    expect(await admin.keys('bull:nodb:*')).toEqual([]);
    admin.disconnect();
  });
});

describe.skipIf(process.getuid?.() !== 0)('hostile pass (issue 20 follow-up): the model cache’s parents', () => {
  it('a --model-cache (or XDG_CACHE_HOME) inside a folder another user owns, or others may write without the sticky bit, is refused', () => {
    const base = mkdtempSync(join(tmpdir(), 'ablate-cache-parents-'));
    try {
      // another user pre-created the folder above the cache (e.g. XDG_CACHE_HOME=/tmp and /tmp/ablate theirs)
      const theirs = join(base, 'ablate');
      mkdirSync(theirs);
      chownSync(theirs, 65534, 65534);
      // (before: the cache was created inside it and accepted; its owner could then swap it for a folder of theirs)
      expect(() => prepareModelCache(join(theirs, 'models'))).toThrow(new RegExp(`--model-cache: ${theirs}/models lies in ${theirs}, which belongs to user 65534`));
      const shared = join(base, 'shared');
      mkdirSync(shared);
      chmodSync(shared, 0o777);
      expect(() => prepareModelCache(join(shared, 'models'))).toThrow(/which others may write to \(mode 777, not sticky\)/);
      chmodSync(shared, 0o1777); // like /tmp: others cannot rename what is not theirs
      expect(prepareModelCache(join(shared, 'models2'))).toBe(join(shared, 'models2'));
      expect(prepareModelCache(join(base, 'mine', 'models'))).toBe(join(base, 'mine', 'models'));
      expect(defaultModelCache({ XDG_CACHE_HOME: theirs })).toBe(join(theirs, 'ablate', 'models'));
      expect(() => prepareModelCache(defaultModelCache({ XDG_CACHE_HOME: theirs }))).toThrow(/belongs to user 65534/);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
