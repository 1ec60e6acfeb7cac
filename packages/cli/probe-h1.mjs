import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') return `{${Object.keys(value).filter((k) => value[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  return JSON.stringify(value);
}
const SPEED_ONLY = ['batchSize', 'executionProviders', 'intraOpNumThreads', 'interOpNumThreads', 'backends', 'strict', 'model'];
function configHash(kind, config, m) {
  const { batchSize: _b, ...rest } = config;
  const classifier = Object.fromEntries(Object.entries(config.classifier ?? {}).filter(([k]) => !SPEED_ONLY.includes(k)));
  try { return createHash('sha256').update(canonicalJson({ kind, config: { ...rest, classifier }, model: m })).digest('hex'); } catch { return '0'.repeat(64); }
}
const connection = { host: '127.0.0.1', port: 6391, maxRetriesPerRequest: null };
const bytes = readFileSync('/tmp/h1/root/good.onnx');
const sha = createHash('sha256').update(bytes).digest('hex');
const r = new Redis(connection); await r.set(`ablate:model:${sha}`, bytes);
const ex = JSON.parse(readFileSync('../../examples/mnist-onnx/config.json', 'utf8'));
const base = { ...ex, classifier: { ...ex.classifier, model: '/tmp/h1/root/good.onnx' }, certifier: { type: 'cohen', alpha: 0.05, n0: 10, n: 20 } };
delete base.$schema;
const q = new Queue('probe', { connection });
const job = (id, config, over = {}) => q.add('certify', { v: 1, runId: '0123456789abcdef', kind: 'certify', start: 0, count: 1, config, configHash: configHash(over.kind ?? 'certify', config, sha), model: { transfer: 'redis', sha256: sha }, ...over }, { jobId: id, attempts: 1 });
let deep = {}; let cur = deep; for (let i = 0; i < 5000; i++) { cur.a = {}; cur = cur.a; }
const cases = {
  plugins: { ...base, plugins: ['/tmp/h1/evil.mjs'] },
  proto: JSON.parse(JSON.stringify(base).replace('{', '{"__proto__":{"polluted":1},')),
  deep: { ...base, encoder: { ...base.encoder, x: deep } },
  mnistpath: { ...base, dataset: { type: 'mnist', path: '/usr/share' } },
  tfjs: { ...base, classifier: { type: 'tfjs', model: '/x' } },
  fashion: { ...base, dataset: { type: 'fashion-mnist' } },
  nhuge: { ...base, certifier: { type: 'cohen', alpha: 0.05, n0: 10, n: 1e15 } },
  batch: { ...base, batchSize: 1e9 },
  good: base,
};
for (const [id, c] of Object.entries(cases)) { try { await job(id, c); } catch (e) { console.log(id, 'ADD ERR', e.message.slice(0, 200)); } }
const t0 = Date.now();
for (const id of Object.keys(cases)) {
  for (;;) { const j = await q.getJob(id); const st = j ? await j.getState() : 'missing'; if (st === 'completed' || st === 'failed' || st === 'missing' || Date.now() - t0 > 60000) { console.log(id, st, (j?.failedReason ?? JSON.stringify(j?.returnvalue?.rows?.[0] ?? '')).slice(0, 300)); break; } await new Promise((r) => setTimeout(r, 100)); }
}
console.log('evil ran:', existsSync('/tmp/h1/evil-ran'), 'polluted:', ({}).polluted);
await q.obliterate({ force: true }); await q.close(); r.disconnect();
