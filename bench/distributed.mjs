// node bench/distributed.mjs [--count 20] [--n0 1000] [--n 10000] [--write] [--overhead-only]
// Distributed certification on this machine: the local run vs a coordinator with 1 and 2 `ablate worker`
// processes on a throw-away redis-server (127.0.0.1), same seed, rows compared ignoring `seconds`; then the cost
// of one job (Redis round trips, coordinator bookkeeping) from a run whose images cost almost nothing.
// Wall times include process start and model loading, as a user meets them. --write replaces the generated
// section of docs/performance.md.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { writeBetweenMarkers } from '../scripts/write-between-markers.mjs';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'packages/cli/dist/bin.js');
const argv = process.argv.slice(2);
const arg = (name, dflt) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt);
const count = arg('--count', 20);
const n0 = arg('--n0', 1000);
const n = arg('--n', 10000);
const cores = os.cpus().length;
const dir = mkdtempSync(join(os.tmpdir(), 'ablate-dist-bench-'));
const config = ['--config', join(root, 'examples/mnist-onnx/config.json')];
const lines = [];
const log = (s = '') => {
  lines.push(s);
  console.log(s);
};

const port = await new Promise((done) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => done(port));
  });
});
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
await new Promise((done) => redis.stdout.on('data', (d) => /Ready to accept/.test(String(d)) && done()));
const url = `redis://127.0.0.1:${port}`;

const rows = (file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => ({ ...JSON.parse(l), seconds: 0 }))
    .sort((a, b) => a.index - b.index);
const same = (a, b) => JSON.stringify(rows(a)) === JSON.stringify(rows(b));
const run = (args) => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ablate ${args.join(' ')} failed:\n${r.stderr}`);
  return (performance.now() - t0) / 1000;
};
async function withWorkers(k, threads, fn) {
  const ws = Array.from({ length: k }, () => {
    const w = spawn(process.execPath, [bin, 'worker', '--queue', url, '--model-cache', join(dir, 'model-cache'), ...(threads === undefined ? [] : ['--threads', String(threads)])], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    w.ready = new Promise((done) => w.stderr.on('data', (d) => /ready: queue/.test(String(d)) && done()));
    return w;
  });
  await Promise.all(ws.map((w) => w.ready));
  try {
    return fn();
  } finally {
    for (const w of ws) w.kill('SIGTERM');
    await Promise.all(ws.map((w) => new Promise((r) => w.on('exit', r))));
  }
}

const flags = [...config, '--n0', String(n0), '--n', String(n), '--count', String(count)];
const local = join(dir, 'local.jsonl');
const overheadOnly = argv.includes('--overhead-only');
const tLocal = overheadOnly ? NaN : run(['certify', ...flags, '--out', local]);
const results = overheadOnly ? [] : [['local run (ONNX Runtime default threads)', tLocal, '—']];
const variants = overheadOnly ? [] : [
  [1, Math.max(1, cores), `1 worker, --threads ${cores}`],
  [2, Math.max(1, Math.floor(cores / 2)), `2 workers, --threads ${Math.max(1, Math.floor(cores / 2))} each`],
  [2, undefined, '2 workers, default threads (oversubscribed)'],
];
for (const [k, threads, label] of variants) {
  const out = join(dir, `w${k}-${threads ?? 'd'}.jsonl`);
  const t = await withWorkers(k, threads, () => run(['certify', ...flags, '--out', out, '--queue', url, '--job-size', '1']));
  results.push([label, t, same(local, out) ? 'yes' : '**NO**']);
}

// Cost of a job: 200 one-sample images (≈ no compute), job size 1, one worker, vs the same run locally.
const tiny = [...config, '--n0', '1', '--n', '1', '--count', '200'];
const tTinyLocal = run(['certify', ...tiny, '--out', join(dir, 'tiny-local.jsonl')]);
const tTinyQueue = await withWorkers(1, 1, () => run(['certify', ...tiny, '--out', join(dir, 'tiny-queue.jsonl'), '--queue', url, '--job-size', '1', '--poll-ms', '50']));
const perJob = ((tTinyQueue - tTinyLocal) / 200) * 1000;

// Redis round-trip time from one client (PING), for the throughput model in docs/performance.md.
const ping = spawnSync('redis-benchmark', ['-p', String(port), '-t', 'ping_mbulk', '-n', '2000', '-c', '1', '--csv'], { encoding: 'utf8' });
const pingCsv = ping.status === 0 ? ping.stdout.trim().split('\n').pop().split(',').map((x) => x.replace(/"/g, '')) : undefined;

redis.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });

const load = os.loadavg()[0].toFixed(1);
log(`Machine: ${os.cpus()[0].model}, ${cores} cores; Node ${process.version}; redis-server on 127.0.0.1; load average (1 min) at the end: ${load}.`);
log(`Date: ${new Date().toISOString().slice(0, 10)}. ${count} MNIST test images, examples/mnist-onnx/config.json (k = 45, n0 = ${n0}, n = ${n}, batch 1000), job size 1.`);
log('');
log('| run | wall time (s) | images/s | rows identical to the local run |');
log('|---|---:|---:|:---:|');
for (const [label, t, ok] of results) log(`| ${label} | ${t.toFixed(1)} | ${(count / t).toFixed(2)} | ${ok} |`);
log('');
log(`Cost of one job (200 one-sample images, job size 1, one worker, vs the same run locally): ${perJob.toFixed(1)} ms per job.`);
if (pingCsv) log(`Redis round trip (PING, one client): mean ${pingCsv[2]} ms, median ${pingCsv[4]} ms, p99 ${pingCsv[6]} ms.`);

if (argv.includes('--write')) {
  const file = join(root, 'docs/performance.md');
  writeBetweenMarkers(file, 'dist-bench', lines.join('\n'));
  console.log(`\nwrote ${file}`);
}
