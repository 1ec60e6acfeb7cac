import { Worker, UnrecoverableError } from 'bullmq';
import { spawnSync, spawn } from 'node:child_process';
const connection = { host: '127.0.0.1', port: 6391, maxRetriesPerRequest: null };
const mode = process.argv[2];
const w = new Worker(mode, async (job) => {
  const d = job.data;
  const row = (i) => ({ index: i, label: [7, 2, 1, 0][i], prediction: [7, 2, 1, 0][i], radius: 7, correct: true, pLower: 0.8608916593308739, nA: 20, n: 20, samples: 30, seconds: 0.03 });
  const rows = Array.from({ length: d.count }, (_, k) => row(d.start + k));
  switch (mode) {
    case 'str': return 'hello';
    case 'frac': return { rows: rows.map((r) => ({ ...r, prediction: 1.5 })), worker: 'x' };
    case 'negsec': return { rows: rows.map((r) => ({ ...r, seconds: -1 })), worker: 'x' };
    case 'label': return { rows: rows.map((r) => ({ ...r, label: 3, prediction: 3 })), worker: 'x' };
    case 'predictfield': return { rows: rows.map((r) => ({ ...r, predict: { prediction: 7, pValue: 1e-6, nA: 20, nB: 0, n: 20 } })), worker: 'x' };
    case 'esc': throw new UnrecoverableError('\u001b[31mred\u001b]0;title\u0007' + 'Z'.repeat(5000));
    case 'extra': return { rows: [...rows, row(d.start + d.count)], worker: 'x' };
    case 'honest': return { rows, worker: 'x' };
    case 'abstainlie': return { rows: rows.map((r) => ({ ...r, prediction: null, radius: null, correct: false })), worker: 'x' };
  }
}, { connection });
w.on('error', () => {});
const out = `/tmp/h1/${mode}.jsonl`;
spawnSync('rm', ['-f', out, out + '.meta.json']);
const r = await new Promise((done) => { const p = spawn(process.execPath, ['dist/bin.js', 'certify', '--config', '../../examples/mnist-onnx/config.json', '--n0', '10', '--n', '20', '--count', '2', '--job-size', '1', '--attempts', '1', '--out', out, '--queue', 'redis://127.0.0.1:6391', '--queue-name', mode, '--poll-ms', '50', '--backoff', '0']); let stdout = '', stderr = ''; p.stdout.on('data', (d) => (stdout += d)); p.stderr.on('data', (d) => (stderr += d)); const t = setTimeout(() => p.kill('SIGKILL'), 60000); p.on('exit', (status) => { clearTimeout(t); done({ status, stdout, stderr }); }); });
const text = (r.stderr + r.stdout);
console.log(mode, 'rc', r.status, JSON.stringify(text.slice(-400)), 'ESC?', text.includes('\u001b'), 'len', text.length, 'stack?', /\n\s+at /.test(text));
console.log(' rows:', spawnSync('cat', [out], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).length);
await w.close();
