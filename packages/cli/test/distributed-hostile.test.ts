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
import { ablateSpawner, type Proc, jsonlRows } from './helpers/ablate-process.js';

// Issue 20 §1: the queue is shared infrastructure, so every job and every result that comes out of Redis is input.
// A real redis-server, real `ablate worker` / coordinator processes, forged jobs written with BullMQ directly, and a
// rogue BullMQ worker in this process that answers the coordinator's jobs with forged rows.
const root = resolve(__dirname, '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const modelFile = join(root, 'models/mnist-k45-multichannel.onnx');
const modelBytes = readFileSync(modelFile);
const modelSha = createHash('sha256').update(modelBytes).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'ablate-hostile-'));
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
const ablate = ablateSpawner(bin, root, children);
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
const rows = jsonlRows;

let redisProc: ChildProcess;
let port: number;
let url: string;
const connection = () => ({ host: '127.0.0.1', port, maxRetriesPerRequest: null });
const cacheDir = join(dir, 'cache');

describe.skipIf(!hasRedis)('a distributed run trusts nothing that comes out of Redis (real redis-server, forged jobs, a rogue worker)', { timeout: 240_000 }, () => {
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

  it('a forged job names files outside --model-root, links, a FIFO, /dev/zero, a huge file: one message for all, no hash, no existence oracle, and the next job is served', async () => {
    const models = join(dir, 'models');
    mkdirSync(models);
    copyFileSync(modelFile, join(models, 'good.onnx'));
    symlinkSync('/etc/passwd', join(models, 'passwd.onnx'));
    symlinkSync('/dev/zero', join(models, 'zero.onnx'));
    spawnSync('mkfifo', [join(models, 'fifo.onnx')]);
    mkdirSync(join(models, 'linkdir'));
    writeFileSync(join(models, 'linkdir', 'weights.bin'), 'w');
    symlinkSync('/etc/passwd', join(models, 'linkdir', 'model.json')); // a folder whose loader would follow a link
    const huge = join(models, 'huge.onnx');
    writeFileSync(huge, '');
    truncateSync(huge, 64 * 1024 * 1024); // sparse, over the worker's --max-model-bytes
    const w = await worker(['--queue-name', 'files', '--model-root', models, '--max-model-bytes', String(32 * 1024 * 1024)]);
    const queue = new Queue('files', { connection: connection() });
    const config = jobConfig();
    const paths = ['/etc/passwd', '/root/.ssh/id_rsa', '/nonexistent/file', '/etc', '/dev/zero', join(models, 'passwd.onnx'), join(models, 'zero.onnx'), join(models, 'fifo.onnx'), huge, `${models}/../models/../../../../etc/passwd`, join(models, 'missing.onnx'), join(models, 'linkdir')];
    for (const [i, path] of paths.entries()) await queue.add('certify', jobData(config, { transfer: 'shared', sha256: modelSha, path }), { jobId: `forged-${i}`, attempts: 1 });
    const reasons: string[] = [];
    for (const i of paths.keys()) {
      const job = await settled(queue, `forged-${i}`);
      expect(await job.getState()).toBe('failed');
      reasons.push(job.failedReason);
    }
    // every refusal reads the same: nothing tells a present file from a missing one, nor a link from a FIFO
    expect(new Set(reasons).size, reasons.join('\n')).toBe(1);
    expect(reasons[0]).toMatch(/not a regular model file of at most 33554432 bytes under this worker's --model-root/);
    const passwdSha = createHash('sha256').update(readFileSync('/etc/passwd')).digest('hex');
    for (const r of reasons) {
      expect(r).not.toContain(passwdSha.slice(0, 8));
      expect(r).not.toMatch(/ENOENT|EACCES|EISDIR/);
    }
    // a dataset folder is read only under the roots too (an image folder's rows would reveal any PNGs)
    symlinkSync(tmpdir(), join(models, 'dlink'));
    const datasets = ['/etc', join(models, 'dlink'), '/nonexistent', join(models, 'good.onnx')];
    for (const [i, path] of datasets.entries()) {
      const c = { ...config, dataset: { type: 'image-folder', path } };
      await queue.add('certify', jobData(c, { transfer: 'redis', sha256: modelSha }), { jobId: `dataset-${i}`, attempts: 1 });
    }
    const dreasons = [];
    for (const i of datasets.keys()) dreasons.push((await settled(queue, `dataset-${i}`)).failedReason);
    expect(new Set(dreasons).size, dreasons.join('\n')).toBe(1);
    expect(dreasons[0]).toBe("the job's dataset path is not a folder under this worker's --model-root folders");
    // the worker survived all of them (no /dev/zero read into memory) and serves a true job next
    const good = jobData(config, { transfer: 'shared', sha256: modelSha, path: join(models, 'good.onnx') });
    await queue.add('certify', good, { jobId: 'good', attempts: 1 });
    const done = await settled(queue, 'good');
    expect(done.failedReason).toBeUndefined();
    expect(done.returnvalue.rows[0]).toMatchObject({ index: 0, label: 7, prediction: 7, n: 200 });
    expect(w.proc.exitCode).toBe(null);
    // a worker without --model-root takes no job by path at all
    await queue.obliterate({ force: true });
    w.proc.kill('SIGTERM');
    await w.exit;
    const redisOnly = await worker(['--queue-name', 'files']);
    await queue.add('certify', good, { jobId: 'by-path', attempts: 1 });
    expect((await settled(queue, 'by-path')).failedReason).toMatch(/reads models only from Redis \(it was started without --model-root\)/);
    await queue.obliterate({ force: true });
    await queue.close();
    redisOnly.proc.kill('SIGTERM');
    await redisOnly.exit;
  });

  it('a job claiming another config’s hash is refused: the worker recomputes it (no alpha-0.9 certificate for an alpha-0.05 job)', async () => {
    const redis = new Redis(connection());
    await redis.set(modelKey(modelSha), modelBytes);
    const w = await worker(['--queue-name', 'hash']);
    const queue = new Queue('hash', { connection: connection() });
    const model = { transfer: 'redis' as const, sha256: modelSha };
    const loose = jobData(jobConfig(0.9), model);
    await queue.add('certify', loose, { jobId: 'loose', attempts: 1 });
    const first = await settled(queue, 'loose');
    expect(first.returnvalue.rows[0].pLower).toBe(clopperPearsonLower(first.returnvalue.rows[0].nA, 200, 0.9));
    // same claimed hash (the runtime cached under it), another config
    const strict = { ...jobData(jobConfig(0.05), model), configHash: loose.configHash };
    await queue.add('certify', strict, { jobId: 'strict', attempts: 1 });
    const second = await settled(queue, 'strict');
    expect(await second.getState()).toBe('failed');
    expect(second.failedReason).toMatch(/config hash mismatch: the job claims [0-9a-f]{12}… but its config and model hash to [0-9a-f]{12}…; refusing the job/);
    // a job id with terminal escapes and a newline reaches the worker's log defused
    await queue.add('certify', { ...strict, count: 0 }, { jobId: 'esc\u001b[2J\nforged log line', attempts: 1 });
    await waitFor('the escape job to fail', () => /job esc\?\[2J forged log line failed: invalid job payload/.test(w.text()));
    expect(w.text()).not.toContain('\u001b');
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
    w.proc.kill('SIGTERM');
    await w.exit;
  });

  describe('rows from a rogue worker', () => {
    let rt: AblateRuntime;
    beforeAll(async () => {
      rt = await createContainer(jobConfig() as never, { baseDir: root });
    });
    afterAll(async () => {
      await rt.dispose();
    });
    const coordinatorArgs = (name: string, out: string, extra: string[] = []) => ['certify', '--config', join(root, 'examples/mnist-onnx/config.json'), '--n0', '50', '--n', '200', '--count', '4', '--job-size', '2', '--out', out, '--queue', url, '--queue-name', name, '--poll-ms', '50', '--backoff', '0', ...extra];
    /** A BullMQ worker in this process that answers every job with rows from `answer`. */
    function rogue(name: string, answer: (row: CertifyRow) => CertifyRow): { jobs: string[]; close(): Promise<void> } {
      const jobs: string[] = [];
      const w = new Worker(
        name,
        async (job: Job) => {
          jobs.push(job.id!);
          const data = job.data as JobData;
          const out: CertifyRow[] = [];
          for (let i = data.start; i < data.start + data.count; i++) out.push(answer((await computeRow(rt, 'certify', i)) as CertifyRow));
          return { rows: out, worker: 'rogue:1' };
        },
        { connection: connection() },
      );
      w.on('error', () => {});
      return { jobs, close: () => w.close() };
    }

    it('an inflated radius is rejected, retried up to --attempts, then the run fails naming job and field; nothing is written', async () => {
      const r = rogue('rogue', (row) => (row.index === 3 ? { ...row, radius: 1e9 } : row));
      const out = join(dir, 'rogue.jsonl');
      const coord = ablate(coordinatorArgs('rogue', out, ['--attempts', '2']));
      expect(await coord.exit, coord.text()).toBe(1);
      await r.close();
      expect(coord.text()).toMatch(/rejected the rows of job [0-9a-f]{16}-2-2 from "rogue:1": image 3: radius 1000000000, but nA = \d+ of n = 200 certifies \d+/);
      expect(coord.text()).toMatch(/ablate: job [0-9a-f]{16}-2-2 \(images 2–3\): its rows were rejected 2 time\(s\), last from "rogue:1": image 3: radius/);
      expect(r.jobs.filter((id) => id.endsWith('-2-2'))).toHaveLength(2); // enqueued again once, then the run failed
      expect(coord.text()).not.toMatch(/\n\s+at /); // no stack trace
      // the honest job's rows are in the file; none of the rejected job's
      expect(rows(out).map((x) => x.index).sort()).toEqual([0, 1]);
    });

    it('a consistent lie about counts passes the checks; --audit 1 re-certifies and fails the run loudly', async () => {
      const bound = rt.perturbation.bound(rt.dataset!.shape);
      const lie = (row: CertifyRow): CertifyRow => {
        const nA = row.nA === 200 ? 199 : 200; // always a lie
        const pLower = clopperPearsonLower(nA, 200, 0.05);
        return { ...row, nA, pLower, radius: radiusFunction(bound)(pLower), prediction: row.label, correct: true };
      };
      const r = rogue('liar', lie);
      const plain = join(dir, 'liar.jsonl');
      const coord = ablate(coordinatorArgs('liar', plain));
      expect(await coord.exit, coord.text()).toBe(0);
      expect(rows(plain).every((x) => x.nA >= 199)).toBe(true); // what the checks cannot see (docs/distributed.md)
      const audited = join(dir, 'liar-audit.jsonl');
      const caught = ablate(coordinatorArgs('liar', audited, ['--audit', '1']));
      expect(await caught.exit, caught.text()).toBe(1);
      await r.close();
      expect(caught.text()).toMatch(/audit: re-certifying about 100 % of the rows here \(--audit-seed \d+\)/);
      expect(caught.text()).toMatch(/ablate: audit: the row of image \d from "rogue:1" \(job \S+\) differs from its local re-certification in [a-zA-Z, ]*nA[a-zA-Z, ]*: worker \{[^}]*"nA":(200|199)[^}]*\}, here \{/);
      expect(existsSync(audited) ? rows(audited) : []).toEqual([]);
    });

    it('a narrower --resume while the wider run’s finished jobs remain in Redis writes only the requested range', async () => {
      const out = join(dir, 'narrow.jsonl');
      const wide = ablate([...coordinatorArgs('narrow', out), '--count', '8']);
      await waitFor('the jobs to be enqueued', () => /jobs on queue "narrow"/.test(wide.text()));
      wide.proc.kill('SIGKILL');
      await wide.exit;
      const queue = new Queue('narrow', { connection: connection() });
      expect(await queue.getJobCountByTypes('wait')).toBe(4);
      const honest = rogue('narrow', (row) => row);
      await waitFor('every job done', async () => (await queue.getJobCountByTypes('completed')) === 4);
      await honest.close();
      const narrow = ablate([...coordinatorArgs('narrow', out), '--count', '3', '--resume']);
      expect(await narrow.exit, narrow.text()).toBe(0);
      expect(rows(out).map((x) => x.index).sort()).toEqual([0, 1, 2]);
      expect(honest.jobs).toHaveLength(4); // nothing recomputed
      await queue.close();
    });
  });

  it('the ACL user of docs/distributed.md runs a whole distributed run, and cannot touch other keys or administer Redis', async () => {
    const line = readFileSync(join(root, 'docs/distributed.md'), 'utf8').match(/^ACL SETUSER .*$/m)![0];
    const aclPort = await freePort();
    const data = mkdtempSync(join(dir, 'redis-acl-'));
    const proc = spawn('redis-server', ['--port', String(aclPort), '--bind', '127.0.0.1', '--dir', data, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(proc);
    let log = '';
    proc.stdout!.on('data', (d) => (log += d));
    await waitFor('redis-server', () => /Ready to accept connections/.test(log), 30_000);
    const admin = new Redis({ host: '127.0.0.1', port: aclPort });
    expect(await admin.call('ACL', ...line.split(' ').slice(1))).toBe('OK');
    const user = new Redis({ host: '127.0.0.1', port: aclPort, username: 'ablate', password: 'CHANGE-ME' });
    await expect(user.get('other-key')).rejects.toThrow(/NOPERM/);
    await expect(user.call('FLUSHALL')).rejects.toThrow(/NOPERM/);
    await expect(user.call('CONFIG', 'GET', 'dir')).rejects.toThrow(/NOPERM/);
    user.disconnect();
    await admin.set(modelKey(modelSha), 'bytes someone else stored under the model key'); // replaced, not trusted
    await admin.call('ACL', 'SETUSER', 'default', 'off');
    admin.disconnect();
    const aclUrl = `redis://ablate:CHANGE-ME@127.0.0.1:${aclPort}`;
    const w = ablate(['worker', '--queue', aclUrl, '--threads', '1', '--model-cache', cacheDir]);
    await waitFor('the worker', () => /ready: queue/.test(w.text()) || w.proc.exitCode !== null);
    const out = join(dir, 'acl.jsonl');
    const coord = ablate(['certify', '--config', join(root, 'examples/mnist-onnx/config.json'), '--n0', '50', '--n', '200', '--count', '2', '--job-size', '1', '--out', out, '--queue', aclUrl, '--poll-ms', '50']);
    expect(await coord.exit, coord.text() + w.text()).toBe(0);
    expect(rows(out).map((x) => x.index).sort()).toEqual([0, 1]);
    w.proc.kill('SIGTERM');
    await w.exit;
    proc.kill('SIGTERM');
  });

  it('the model cache: private, links and foreign files at the model’s name are never trusted or written through', async () => {
    const redis = new Redis(connection());
    await redis.set(modelKey(modelSha), modelBytes);
    const cache = prepareModelCache(join(dir, 'private-cache'));
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    // a link planted at the model's name: not followed, its target untouched; the cache gets the verified bytes
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'a user file\n');
    symlinkSync(victim, join(cache, `${modelSha}.model`));
    const got = await fetchModel(redis, modelSha, cache, 64 * 1024 * 1024);
    expect(readFileSync(victim, 'utf8')).toBe('a user file\n');
    expect(lstatSync(got).isFile()).toBe(true);
    expect(createHash('sha256').update(readFileSync(got)).digest('hex')).toBe(modelSha);
    // a file with other bytes at the model's name is re-verified and replaced
    writeFileSync(got, 'not the model');
    await fetchModel(redis, modelSha, cache, 64 * 1024 * 1024);
    expect(createHash('sha256').update(readFileSync(got)).digest('hex')).toBe(modelSha);
    redis.disconnect();
    // folders others may write to, or not folders at all, are refused naming the flag
    const open = join(dir, 'open-cache');
    mkdirSync(open);
    chmodSync(open, 0o777);
    expect(() => prepareModelCache(open)).toThrow(/--model-cache: .* is writable by other users \(mode 777\)/);
    expect(() => prepareModelCache('/etc/passwd')).toThrow(/--model-cache: /);
    expect(defaultModelCache({ XDG_CACHE_HOME: '/home/u/.xdg' })).toBe('/home/u/.xdg/ablate/models');
    expect(defaultModelCache({})).toMatch(/\/\.cache\/ablate\/models$/);
  });

  // The hostile pass that followed (issue 20's Done when): what else a forged job or a rogue worker could try.
  describe('what a forged job can make a worker read (hostile pass, issue 20 follow-up)', () => {
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
});

describe('flags that would hang or fail late are refused up front, naming the flag', { timeout: 120_000 }, () => {
  // Port 1 on loopback: nothing listens, so an accepted flag would leave the process waiting for Redis.
  const out = mkdtempSync(join(tmpdir(), 'ablate-flags-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const cases: [string, string[], RegExp][] = [
    ['malformed --queue', ['worker', '--queue', 'redis://:%zz@127.0.0.1:1'], /--queue: the password in the URL is not validly percent-encoded/],
    ['worker --queue-name ""', ['worker', '--queue', 'redis://127.0.0.1:1', '--queue-name', ''], /--queue-name must be 1–100 printable characters/],
    ['coordinator --queue-name ""', ['certify', '--config', 'examples/mnist-onnx/config.json', '--out', join(out, 'qn.jsonl'), '--queue', 'redis://127.0.0.1:1', '--queue-name', ''], /--queue-name must be 1–100 printable characters/],
    ['--job-size over the worker maximum', ['certify', '--config', 'examples/mnist-onnx/config.json', '--out', join(out, 'js.jsonl'), '--queue', 'redis://127.0.0.1:1', '--job-size', '10001'], /--job-size must be at most 10000 \(the most a worker accepts per job\)/],
    ['--model-cache naming a file', ['worker', '--queue', 'redis://127.0.0.1:1', '--model-cache', '/etc/passwd'], /--model-cache: (cannot create the folder \/etc\/passwd|\/etc\/passwd is not a folder)/],
    ['--model-root that does not exist', ['worker', '--queue', 'redis://127.0.0.1:1', '--model-root', '/nonexistent-root'], /--model-root: \/nonexistent-root does not exist/],
    ['a model over the coordinator’s --max-model-bytes', ['certify', '--config', 'examples/mnist-onnx/config.json', '--out', join(out, 'mb.jsonl'), '--queue', 'redis://127.0.0.1:1', '--max-model-bytes', '1000000'], /--model-transfer: .*mnist-k45-multichannel\.onnx is 13285048 bytes, over --max-model-bytes 1000000 \(put the model on storage every worker mounts, start the workers with --model-root FOLDER/],
    ['--audit out of range', ['certify', '--config', 'examples/mnist-onnx/config.json', '--out', join(out, 'au.jsonl'), '--queue', 'redis://127.0.0.1:1', '--audit', '1.5'], /--audit must be a fraction in \[0, 1\]/],
  ];
  for (const [name, args, message] of cases) {
    it(name, () => {
      const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 20_000 });
      expect(r.signal, `${r.stdout}${r.stderr}`).toBe(null); // exited by itself, no hang
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/URI malformed|EEXIST|\n\s+at /);
    });
  }
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
