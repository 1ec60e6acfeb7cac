import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { configHash } from '../src/distributed/jobs.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ablateSpawner, type Proc, jsonlRows } from './helpers/ablate-process.js';

// Distributed certification as users run it: a real redis-server on a free loopback port, `ablate worker`
// processes and an `ablate certify --queue` coordinator, with workers, the coordinator and Redis killed mid-run.
// Every row must equal a single-process run of the same seed (only `seconds` may differ).
const root = resolve(__dirname, '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const config = join(root, 'examples/mnist-onnx/config.json');
const dir = mkdtempSync(join(tmpdir(), 'ablate-dist-'));
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedis) console.warn('redis-server not found: the distributed tests are skipped (apt-get install redis-server; .ci/run installs it)');

const small = ['--config', config, '--n0', '100', '--n', '500'];
const COUNT = 8;
// A killed worker's job is back on the queue within lock duration + stalled interval (≈ 11 s). Shorter locks make
// busy-but-alive workers look stalled on a loaded machine (correct, but work is repeated).
const fastWorker = ['--threads', '1', '--lock-duration', '10000', '--stalled-interval', '1000', '--model-cache', join(dir, 'model-cache')];

const rows = jsonlRows;
const noSeconds = (xs: any[]) => xs.map((x) => ({ ...x, seconds: 0 })).sort((a, b) => a.index - b.index);

const children: ChildProcess[] = [];
const ablate = ablateSpawner(bin, root, children);
async function waitFor(what: string, pred: () => boolean, ms = 180_000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });

/** A throw-away redis-server on 127.0.0.1 (no persistence: a restart loses everything). */
async function startRedis(port: number, extra: string[] = []): Promise<{ port: number; proc: ChildProcess; stop(): Promise<void> }> {
  const data = mkdtempSync(join(dir, 'redis-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', data, '--save', '', '--appendonly', 'no', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let log = '';
  proc.stdout!.on('data', (d) => (log += d));
  await waitFor('redis-server to start', () => /Ready to accept connections/.test(log), 30_000);
  const exited = new Promise((r) => proc.on('exit', r));
  return {
    port,
    proc,
    stop: async () => {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}
async function worker(url: string, args: string[], env: Record<string, string> = {}): Promise<Proc> {
  const w = ablate(['worker', '--queue', url, ...args], env);
  await waitFor('a worker to be ready', () => /ready: queue/.test(w.text()));
  return w;
}
/** Job ids a worker started / finished, from its log. */
const started = (w: Proc) => [...w.text().matchAll(/job (\S+): images \S+ started/g)].map((m) => m[1]!);
const finished = (w: Proc) => [...w.text().matchAll(/job (\S+): images \S+ in [\d.]+ s/g)].map((m) => m[1]!);

let reference: any[];
let redis: { port: number; proc: ChildProcess; stop(): Promise<void> };
let shared: ChildProcess | undefined;
let url: string;

describe.skipIf(!hasRedis)('distributed certify over BullMQ (real redis-server, coordinator and worker processes)', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    const ref = join(dir, 'reference.jsonl');
    const r = spawnSync(process.execPath, [bin, 'certify', ...small, '--count', String(COUNT), '--out', ref], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    reference = noSeconds(rows(ref));
    redis = await startRedis(await freePort());
    shared = redis.proc;
    url = `redis://127.0.0.1:${redis.port}`;
  });

  // Whatever a test left running (it failed half-way) is killed; the shared redis-server lives until afterAll.
  afterEach(() => {
    for (const c of children) if (c !== shared && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('a worker SIGKILLed mid-job: its job is retried on another worker; every row equals the single-process run', async () => {
    const q = ['--queue-name', 'kill'];
    const workers = [await worker(url, [...q, ...fastWorker]), await worker(url, [...q, ...fastWorker])];
    const out = join(dir, 'kill.jsonl');
    const coord = ablate(['certify', ...small, '--count', String(COUNT), '--out', out, '--queue', url, ...q, '--job-size', '2', '--poll-ms', '100']);
    let victim: Proc | undefined;
    let lost: string | undefined;
    await waitFor('a worker in the middle of a job', () => {
      victim = workers.find((w) => started(w).some((id) => !finished(w).includes(id)));
      return victim !== undefined;
    });
    lost = started(victim!).find((id) => !finished(victim!).includes(id));
    victim!.proc.kill('SIGKILL');
    expect(await coord.exit, coord.text()).toBe(0);
    const survivor = workers.find((w) => w !== victim)!;
    expect(finished(survivor)).toContain(lost); // the killed worker's job came back and was done elsewhere
    const got = rows(out);
    expect(got.map((x) => x.index).sort((a, b) => a - b)).toEqual([...Array(COUNT).keys()]);
    expect(noSeconds(got)).toEqual(reference);
    // the usual sidecar: summarize and --resume treat the file like a local run's
    expect(JSON.parse(readFileSync(`${out}.meta.json`, 'utf8'))).toMatchObject({ command: 'certify', perturbation: 'ablation(k=45)', unit: 'pixels' });
    survivor.proc.kill('SIGTERM');
    expect(await survivor.exit, survivor.text()).toBe(0);
  });

  it('--images-in-flight: a worker computes a job\'s images at once, batches merged; the rows equal the single-process run', async () => {
    const q = ['--queue-name', 'in-flight'];
    const w = await worker(url, [...q, ...fastWorker]);
    const out = join(dir, 'in-flight.jsonl');
    const coord = ablate(['certify', ...small, '--count', String(COUNT), '--out', out, '--queue', url, ...q, '--job-size', '4', '--images-in-flight', '4', '--poll-ms', '100']);
    expect(await coord.exit, coord.text()).toBe(0);
    expect(noSeconds(rows(out))).toEqual(reference);
    // the sidecar records it; the config hash (and a resume without it) ignores it
    expect(JSON.parse(readFileSync(`${out}.meta.json`, 'utf8')).config.imagesInFlight).toBe(4);
    w.proc.kill('SIGTERM');
    expect(await w.exit, w.text()).toBe(0);
  });

  it('the coordinator SIGKILLed and resumed: rows finished while it was down are kept in Redis, none lost or doubled', async () => {
    const q = ['--queue-name', 'resume'];
    const workers = [await worker(url, [...q, ...fastWorker]), await worker(url, [...q, ...fastWorker])];
    const out = join(dir, 'resume.jsonl');
    const args = ['certify', ...small, '--count', String(COUNT), '--out', out, '--queue', url, ...q, '--job-size', '2', '--poll-ms', '100'];
    const first = ablate(args);
    await waitFor('the first row', () => (existsSync(out) && readFileSync(out, 'utf8').includes('\n')) || first.proc.exitCode !== null);
    expect(first.proc.exitCode, first.text()).toBe(null);
    first.proc.kill('SIGKILL');
    await first.exit;
    const before = rows(out).length;
    expect(before).toBeLessThan(COUNT);
    // the workers finish every job while no coordinator runs
    await waitFor('all four jobs done', () => new Set(workers.flatMap(finished)).size === COUNT / 2);
    const startedBefore = workers.flatMap(started).length;
    const second = ablate([...args, '--resume']);
    expect(await second.exit, second.text()).toBe(0);
    expect(workers.flatMap(started).length).toBe(startedBefore); // nothing recomputed: collected from Redis
    const got = rows(out);
    expect(got.map((x) => x.index).sort((a, b) => a - b)).toEqual([...Array(COUNT).keys()]);
    expect(noSeconds(got)).toEqual(reference);
    for (const w of workers) w.proc.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exit));
  });

  it('a worker whose model differs from the job’s fingerprint refuses it; the coordinator fails with that reason', async () => {
    const q = ['--queue-name', 'fp'];
    const model = join(dir, 'model.onnx');
    copyFileSync(join(root, 'models/mnist-k45-multichannel.onnx'), model);
    const out = join(dir, 'fp.jsonl');
    const coord = ablate(['certify', ...small, '--model', model, '--count', '2', '--out', out, '--queue', url, ...q, '--model-transfer', 'shared', '--attempts', '1']);
    await waitFor('the jobs to be enqueued', () => /jobs on queue "fp"/.test(coord.text()));
    copyFileSync(join(root, 'models/mnist-k20-multichannel.onnx'), model); // "shared storage" now holds another model
    const w = await worker(url, [...q, ...fastWorker, '--model-root', dir]);
    expect(await coord.exit, coord.text()).toBe(1);
    expect(coord.text()).toMatch(/failed after 1 attempt\(s\): model fingerprint mismatch on .*refusing the job/);
    expect(coord.text()).toMatch(/--resume/);

    // Payloads are data, validated like configs: unknown fields, unregistered plug-ins and bad ranges are refused.
    const queue = new Queue('fp', { connection: { host: '127.0.0.1', port: redis.port } });
    const jobConfig = JSON.parse(readFileSync(config, 'utf8'));
    const good = { v: 1, runId: '0123456789abcdef', kind: 'certify', start: 0, count: 1, config: jobConfig, configHash: configHash('certify', jobConfig, 'b'.repeat(64)), model: { transfer: 'redis', sha256: 'b'.repeat(64) } };
    const evil = { ...jobConfig, classifier: { type: 'evil-plugin', model: '/x.onnx' } };
    const cases: [string, object, RegExp][] = [
      ['extra', { ...good, code: 'require("child_process").execSync("touch /tmp/pwned")' }, /invalid job payload: .*must NOT have additional properties/],
      ['plugin', { ...good, config: evil, configHash: configHash('certify', evil, 'b'.repeat(64)) }, /invalid config in job: [\s\S]*\/classifier\/type/],
      ['range', { ...good, count: 0 }, /invalid job payload: \/count must be >= 1/],
      ['model', good, /model bbbbbbbbbbbb… is not in Redis/],
    ];
    for (const [name, data, reason] of cases) await queue.add(name, data, { jobId: `check-${name}`, attempts: 1 });
    await waitFor('the checks to fail', () => (w.text().match(/job check-\S+ failed/g) ?? []).length === cases.length, 30_000);
    for (const [name, , reason] of cases) expect((await queue.getJob(`check-${name}`))!.failedReason).toMatch(reason);
    await queue.obliterate({ force: true });
    await queue.close();
    w.proc.kill('SIGTERM');
    await w.exit;
  });

  it('a password-protected Redis: the URL’s credentials work, a wrong password is a clear error that does not print it', async () => {
    const password = 'p@ss/w:rd#1';
    const secured = await startRedis(await freePort(), ['--requirepass', password]);
    const good = `redis://:${encodeURIComponent(password)}@127.0.0.1:${secured.port}`;
    const bad = `redis://:${encodeURIComponent('wrong-pass')}@127.0.0.1:${secured.port}`;
    const w = await worker(good, fastWorker);
    expect(w.text()).not.toContain(encodeURIComponent(password));
    const out = join(dir, 'auth.jsonl');
    const coord = ablate(['certify', ...small, '--count', '3', '--out', out, '--queue', good, '--job-size', '1']);
    expect(await coord.exit, coord.text()).toBe(0);
    expect(noSeconds(rows(out))).toEqual(reference.slice(0, 3));

    const refused = ablate(['certify', ...small, '--count', '3', '--out', join(dir, 'auth-bad.jsonl'), '--queue', bad]);
    expect(await refused.exit, refused.text()).toBe(2);
    expect(refused.text()).toMatch(/--queue: Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ refused the credentials/);
    expect(refused.text()).not.toContain('wrong-pass');
    const badWorker = ablate(['worker', '--queue', bad]);
    expect(await badWorker.exit, badWorker.text()).toBe(2);
    expect(badWorker.text()).toMatch(/refused the credentials/);
    w.proc.kill('SIGTERM');
    await w.exit;
    await secured.stop();
  });

  it('rediss:// connects over TLS and checks the server certificate', async (ctx) => {
    const tlsDir = mkdtempSync(join(dir, 'tls-'));
    const [key, cert] = [join(tlsDir, 'key.pem'), join(tlsDir, 'cert.pem')];
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', key, '-out', cert]);
    if (made.status !== 0) return ctx.skip();
    const port = await freePort();
    const secure = await startRedis(await freePort(), ['--tls-port', String(port), '--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no']);
    const turl = `rediss://localhost:${port}`;
    const trust = { NODE_EXTRA_CA_CERTS: cert };
    const w = await worker(turl, fastWorker, trust);
    const out = join(dir, 'tls.jsonl');
    const coord = ablate(['certify', ...small, '--count', '2', '--out', out, '--queue', turl, '--job-size', '1'], trust);
    expect(await coord.exit, coord.text()).toBe(0);
    expect(noSeconds(rows(out))).toEqual(reference.slice(0, 2));
    // without trusting the certificate, the worker does not talk to the server
    const untrusting = ablate(['worker', '--queue', turl]);
    await waitFor('the certificate to be refused', () => /waiting for Redis at rediss:\/\/localhost:\d+: .*(self[- ]signed|certificate)/i.test(untrusting.text()), 60_000);
    w.proc.kill('SIGTERM');
    await w.exit;
    await secure.stop();
  });

  it('Redis restarted without persistence mid-run: lost jobs and the model are stored again, the file is complete and identical', async () => {
    const volatile = await startRedis(await freePort());
    const vurl = `redis://127.0.0.1:${volatile.port}`;
    const w = await worker(vurl, fastWorker);
    const out = join(dir, 'restart.jsonl');
    const coord = ablate(['certify', ...small, '--count', String(COUNT), '--out', out, '--queue', vurl, '--job-size', '1', '--poll-ms', '100']);
    await waitFor('two rows', () => existsSync(out) && readFileSync(out, 'utf8').split('\n').length > 2);
    await volatile.stop();
    const again = await startRedis(volatile.port);
    expect(await coord.exit, coord.text()).toBe(0);
    expect(coord.text()).toMatch(/vanished from Redis .* enqueueing them again/);
    const got = rows(out);
    expect(got.map((x) => x.index).sort((a, b) => a - b)).toEqual([...Array(COUNT).keys()]);
    expect(noSeconds(got)).toEqual(reference);
    w.proc.kill('SIGTERM');
    await w.exit;
    await again.stop();
  });
});
