import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configHash, jobDataError, jobResultError, splitRanges, type JobData } from '../src/distributed/jobs.js';
import { parseRedisUrl, redactRedisUrl } from '../src/distributed/redis-url.js';

describe('Redis URLs', () => {
  it('parses host, port, db, user and a percent-encoded password; rediss:// turns TLS on', () => {
    expect(parseRedisUrl('redis://10.0.0.5:6380/3')).toEqual({ host: '10.0.0.5', port: 6380, db: 3, maxRetriesPerRequest: null });
    expect(parseRedisUrl('redis://h')).toMatchObject({ host: 'h', port: 6379, db: 0 });
    expect(parseRedisUrl(`rediss://alice:${encodeURIComponent('p@ss/w:rd')}@cache.example:6390`)).toEqual({
      host: 'cache.example',
      port: 6390,
      db: 0,
      username: 'alice',
      password: 'p@ss/w:rd',
      tls: { servername: 'cache.example' },
      maxRetriesPerRequest: null,
    });
  });

  it('refuses what is not a Redis URL, naming the flag; never echoes a password', () => {
    expect(() => parseRedisUrl('http://h:1')).toThrow(/--queue: the URL must start with redis:\/\/ or rediss:\/\//);
    expect(() => parseRedisUrl('redis://h/x')).toThrow(/database must be a number/);
    expect(() => parseRedisUrl('localhost:6379')).toThrow(/--queue/);
    expect(redactRedisUrl('redis://:secret@h:1/2')).toBe('redis://:***@h:1/2');
    expect(redactRedisUrl('rediss://bob:secret@h')).toBe('rediss://bob:***@h');
    expect(redactRedisUrl('redis://h:1')).toBe('redis://h:1');
  });
});

describe('jobs', () => {
  it('split the images still to do into contiguous ranges of at most --job-size', () => {
    expect(splitRanges([0, 1, 2, 3, 4, 5, 6], 3)).toEqual([
      { start: 0, count: 3 },
      { start: 3, count: 3 },
      { start: 6, count: 1 },
    ]);
    expect(splitRanges([2, 3, 7, 8, 9, 12], 4)).toEqual([
      { start: 2, count: 2 },
      { start: 7, count: 3 },
      { start: 12, count: 1 },
    ]);
    expect(splitRanges([], 4)).toEqual([]);
  });

  const config = {
    dataset: { type: 'mnist', split: 'test' },
    perturbation: { type: 'ablation', retain: 45 },
    encoder: { type: 'multichannel' },
    classifier: { type: 'onnx', model: '/a/m.onnx', executionProviders: ['cpu'], batchSize: 1000 },
    certifier: { type: 'cohen', alpha: 0.05, n0: 100, n: 1000 },
    seed: 0,
  };
  const sha = 'c'.repeat(64);

  it('the config hash ignores what cannot change a row (speed options, key order, the model path) and sees what can', () => {
    const h = configHash('certify', config, sha);
    const faster = { ...config, batchSize: 50, classifier: { type: 'onnx', model: '/elsewhere/m.onnx', executionProviders: ['cuda', 'cpu'], batchSize: 10, intraOpNumThreads: 1 } };
    expect(configHash('certify', faster, sha)).toBe(h);
    expect(configHash('predict', config, sha)).not.toBe(h);
    expect(configHash('certify', { ...config, seed: 1 }, sha)).not.toBe(h);
    expect(configHash('certify', { ...config, certifier: { ...config.certifier, n: 1001 } }, sha)).not.toBe(h);
    expect(configHash('certify', config, 'd'.repeat(64))).not.toBe(h);
  });

  const job: JobData = { v: 1, runId: '0123456789abcdef', kind: 'certify', start: 5, count: 2, config, configHash: sha, model: { transfer: 'shared', sha256: sha, path: '/a/m.onnx' } };

  it('payloads are checked field by field: no unknown fields, sane ranges, hex fingerprints, a path for shared models', () => {
    expect(jobDataError(job)).toBeUndefined();
    expect(jobDataError({ ...job, exec: 'rm -rf /' })).toMatch(/must NOT have additional properties/);
    expect(jobDataError({ ...job, start: -1 })).toMatch(/\/start must be >= 0/);
    expect(jobDataError({ ...job, count: 10_001 })).toMatch(/\/count must be <= 10000/);
    expect(jobDataError({ ...job, kind: 'train' })).toMatch(/\/kind/);
    expect(jobDataError({ ...job, model: { transfer: 'shared', sha256: sha } })).toMatch(/must have required property 'path'/);
    expect(jobDataError({ ...job, model: { transfer: 'redis', sha256: 'XYZ' } })).toMatch(/\/model\/sha256 must match pattern/);
    expect(jobDataError({ ...job, model: { transfer: 'shared', sha256: sha, path: 'relative.onnx' } })).toMatch(/\/model\/path/);
    expect(jobDataError('{"v":1}')).toMatch(/must be object/);
  });

  it('results are checked against the job before they are written: one well-formed row per index, in order', () => {
    const row = (index: number) => ({ index, label: 7, prediction: 7, radius: 8, correct: true, pLower: 0.99, nA: 1000, n: 1000, samples: 1100, seconds: 0.5 });
    expect(jobResultError(job, { rows: [row(5), row(6)], worker: 'h:1' })).toBeUndefined();
    expect(jobResultError(job, { rows: [row(5)], worker: 'h:1' })).toMatch(/expected 2 rows, got 1/);
    expect(jobResultError(job, { rows: [row(5), row(7)], worker: 'h:1' })).toMatch(/row 1 has index 7, expected 6/);
    expect(jobResultError(job, { rows: [row(5), { ...row(6), radius: 'big' }], worker: 'h:1' })).toMatch(/row 1: \/radius/);
    expect(jobResultError(job, { rows: [row(5), { ...row(6), extra: 1 }], worker: 'h:1' })).toMatch(/additional properties/);
    expect(jobResultError(job, null)).toMatch(/no rows/);
  });
});

describe('hostile pass (issue 20 follow-up): passwords and absurd timer flags', () => {
  it('a password with an unencoded @, /, # or ? is never printed, whole or in part', () => {
    for (const pw of ['sec@ret', 'sec/ret', 'sec#ret', 'sec?ret', 'xa@yb@zc/wd']) {
      const url = `redis://bob:${pw}@127.0.0.1:6379/0`;
      const shown = redactRedisUrl(url);
      expect(shown, pw).toBe('redis://bob:***@127.0.0.1:6379/0');
      let message = '';
      try {
        parseRedisUrl(url);
      } catch (error) {
        message = (error as Error).message;
      }
      for (const part of pw.split(/[@/#?]/)) expect(message, pw).not.toContain(part);
    }
  });

  it('--poll-ms, --backoff, --lock-duration, --stalled-interval above 2^31 − 1 ms are refused at once (a Node.js timer would fire after 1 ms)', () => {
    const bin = join(__dirname, '../dist/bin.js');
    const huge = '9007199254740991';
    const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 });
    for (const flag of ['--lock-duration', '--stalled-interval']) {
      const r = run(['worker', '--queue', 'redis://127.0.0.1:1', flag, huge]);
      // (before: "ready" never came, and the worker spun on 1 ms timers with a TimeoutOverflowWarning each)
      expect(r.status, flag).toBe(2);
      expect(r.stderr).toContain(`${flag} must be at most 2147483647 ms (the longest timer Node.js keeps), got "${huge}"`);
      expect(r.stderr).not.toMatch(/TimeoutOverflowWarning|\n\s+at /);
    }
    for (const flag of ['--poll-ms', '--backoff']) {
      const r = run(['certify', '--queue', 'redis://127.0.0.1:1', '--out', '/nonexistent-dir/x.jsonl', flag, '2147483648']);
      expect(r.status, flag).toBe(2);
      expect(r.stderr).toContain(`${flag} must be at most 2147483647 ms (the longest timer Node.js keeps), got "2147483648"`);
    }
    expect(run(['worker', '--queue', 'redis://127.0.0.1:1', '--lock-duration', '2147483647', '--help']).status).toBe(0);
  });

  it('--attempts, --concurrency and --threads are bounded (a huge count would start that many model copies, threads or retries)', () => {
    const bin = join(__dirname, '../dist/bin.js');
    const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 });
    for (const [flag, max] of [['--concurrency', 256], ['--threads', 1024]] as const) {
      const r = run(['worker', '--queue', 'redis://127.0.0.1:1', flag, String(max + 1)]);
      expect(r.status, flag).toBe(2);
      expect(r.stderr).toContain(`${flag} must be at most ${max}, got "${max + 1}"`);
    }
    const r = run(['certify', '--queue', 'redis://127.0.0.1:1', '--out', '/nonexistent-dir/x.jsonl', '--attempts', '1000']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--attempts must be at most 100');
  });
});
