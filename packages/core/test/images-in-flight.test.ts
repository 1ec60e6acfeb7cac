import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
// The built packages, as an app uses them.
import {
  AblationPerturbation,
  BatchCoalescer,
  CohenCertifier,
  createContainer,
  FunctionClassifier,
  inFlightInOrder,
  MultichannelEncoder,
  SequentialCertifier,
  SmoothedClassifier,
  type AblateConfig,
  type BaseClassifier,
  type Certificate,
  type Image,
  type Shape,
} from '@ablate/core';
import '@ablate/backend-onnx';
import '@ablate/datasets';

const root = resolve(__dirname, '../../..');

/** A backend whose answer for a row is a function of that row only (the first value, rounded), with a log of its calls. */
function rowBackend(options: { delayMs?: number; fail?: (call: number) => unknown; short?: boolean } = {}) {
  const calls: number[] = [];
  let out = new Int32Array(0);
  const backend: BaseClassifier = {
    type: 'row',
    numClasses: 100,
    checkInputShape() {},
    async classify(input: Float32Array, count: number, shape: Shape) {
      calls.push(count);
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      const failure = options.fail?.(calls.length);
      if (failure) throw failure;
      const F = shape[0] * shape[1] * shape[2];
      // the same array every call, overwritten: callers must have their own copies
      if (out.length < count) out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = Math.round(input[i * F]!);
      return options.short ? out.subarray(0, count - 1) : out.subarray(0, count);
    },
    dispose() {},
  };
  return { backend, calls };
}

/** `count` rows of shape [1, 1, 2] whose first value is `value`. */
const rows = (value: number, count: number) => new Float32Array(count * 2).fill(value);

describe('BatchCoalescer: requests of calls in flight share backend calls', () => {
  it('merges the requests made in one turn into one backend call, each caller getting its own rows in order', async () => {
    const { backend, calls } = rowBackend();
    const c = new BatchCoalescer(backend, 1000);
    const shape: Shape = [1, 1, 2];
    const answers = await Promise.all([c.classify(rows(1, 16), 16, shape), c.classify(rows(2, 32), 32, shape), c.classify(rows(3, 64), 64, shape)]);
    expect(calls).toEqual([112]);
    expect(answers.map((a) => [a.length, new Set(a).size, a[0]])).toEqual([
      [16, 1, 1],
      [32, 1, 2],
      [64, 1, 3],
    ]);
    expect(c.stats).toEqual({ calls: 1, rows: 112, requests: 3 });
  });

  it('never exceeds maxRows, never splits a request; the oldest request always goes next, later ones fill the room left', async () => {
    const { backend, calls } = rowBackend();
    const c = new BatchCoalescer(backend, 100);
    const shape: Shape = [1, 1, 2];
    const answers = await Promise.all([60, 60, 30, 100, 5].map((n, i) => c.classify(rows(i, n), n, shape)));
    // call 1: the oldest (60) + 30 + 5, which fit; call 2: the second 60 (oldest now; 100 does not fit); call 3: 100
    expect(calls).toEqual([95, 60, 100]);
    expect(answers.map((a) => [a.length, a[0], a[a.length - 1]])).toEqual([
      [60, 0, 0],
      [60, 1, 1],
      [30, 2, 2],
      [100, 3, 3],
      [5, 4, 4],
    ]);
  });

  it('keeps requests of different encoded shapes apart', async () => {
    const { backend, calls } = rowBackend();
    const c = new BatchCoalescer(backend, 1000);
    const answers = await Promise.all([c.classify(rows(1, 4), 4, [1, 1, 2]), c.classify(new Float32Array(3 * 6).fill(2), 3, [1, 2, 3]), c.classify(rows(3, 4), 4, [1, 1, 2])]);
    expect(calls).toEqual([8, 3]);
    expect(answers.map((a) => a[0])).toEqual([1, 2, 3]);
  });

  it('a failing backend call rejects every request in it, and the next call works', async () => {
    const { backend, calls } = rowBackend({ fail: (n) => (n === 1 ? new Error('backend down') : undefined) });
    const c = new BatchCoalescer(backend, 1000);
    const shape: Shape = [1, 1, 2];
    const first = await Promise.allSettled([c.classify(rows(1, 2), 2, shape), c.classify(rows(2, 3), 3, shape)]);
    expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(first.map((r) => (r as PromiseRejectedResult).reason.message)).toEqual(['backend down', 'backend down']);
    expect(Array.from(await c.classify(rows(7, 2), 2, shape))).toEqual([7, 7]);
    expect(calls).toEqual([5, 2]);
  });

  it('an answer of the wrong length is a ModelError for every request of that call', async () => {
    const c = new BatchCoalescer(rowBackend({ short: true }).backend, 1000);
    const results = await Promise.allSettled([c.classify(rows(1, 2), 2, [1, 1, 2]), c.classify(rows(2, 2), 2, [1, 1, 2])]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'ABLATE_MODEL', message: expect.stringContaining('returned 3 predictions for a batch of 4 inputs') });
    }
  });
});

describe('inFlightInOrder: a sliding window that yields in order', () => {
  const sleep = (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => (clearTimeout(t), reject(new Error('aborted'))), { once: true });
    });

  it('yields in item order whatever order the work finishes in, never more than inFlight at once', async () => {
    let running = 0;
    let most = 0;
    const delays = [30, 5, 20, 1, 15, 2, 8];
    const out: number[] = [];
    for await (const x of inFlightInOrder(delays.map((_, i) => i), 3, async (i) => {
      most = Math.max(most, ++running);
      await sleep(delays[i]!);
      running--;
      return i * 10;
    })) out.push(x);
    expect(out).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(most).toBe(3);
  });

  it('a failure surfaces after the results before it; the others are aborted and settled before it is thrown', async () => {
    const settled: number[] = [];
    const out: number[] = [];
    const run = async () => {
      for await (const x of inFlightInOrder([0, 1, 2, 3, 4], 3, async (i, signal) => {
        try {
          if (i === 1) throw new Error('item 1 failed');
          await sleep(i === 0 ? 5 : 200, signal);
          return i;
        } finally {
          settled.push(i);
        }
      })) out.push(x);
    };
    await expect(run()).rejects.toThrow('item 1 failed');
    expect(out).toEqual([0]);
    // 2 was running: aborted, not left to finish its 200 ms; after 1 failed no item started (3 and 4 never did)
    expect(settled.sort()).toEqual([0, 1, 2]);
  });

  it('a consumer that stops early aborts and awaits the work still running; a caller signal aborts it all', async () => {
    const aborted: number[] = [];
    const work = async (i: number, signal: AbortSignal) => {
      try {
        await sleep(i === 0 ? 1 : 500, signal);
      } catch (error) {
        aborted.push(i);
        throw error;
      }
      return i;
    };
    for await (const x of inFlightInOrder([0, 1, 2, 3], 3, work)) {
      expect(x).toBe(0);
      break;
    }
    expect(aborted.sort()).toEqual([1, 2, 3]);
    const controller = new AbortController();
    const run = (async () => {
      for await (const _ of inFlightInOrder([1, 2], 2, work, controller.signal));
    })();
    setTimeout(() => controller.abort(new Error('user')), 5);
    await expect(run).rejects.toThrow('aborted');
    controller.abort();
    await expect(inFlightInOrder([0], 1, work, controller.signal).next()).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

// ---- SmoothedClassifier with imagesInFlight ----

const H = 6;
const W = 6;
/** Image i: a fixed pattern of ones with density growing with i, so the images' p_A differ. */
function image(i: number): Image {
  const data = new Float32Array(H * W);
  for (let j = 0; j < H * W; j++) data[j] = (j * 7 + i * 3) % 10 < 3 + (i % 6) ? 1 : 0;
  return { data, shape: [1, H, W] };
}
/** Class 1 when at least 3 kept pixels are ones (channel 0 of the multichannel encoding), else class 0: a function of the row. */
const onesClassifier = (batch?: number) => new FunctionClassifier({ numClasses: 3, predict: (row) => (row.subarray(0, H * W).reduce((a, v) => a + (v > 0.5 ? 1 : 0), 0) >= 3 ? 1 : 0), preferredBatchSize: batch });

/** A classifier wrapper that logs the size of every backend call. */
function logged(inner: BaseClassifier) {
  const calls: number[] = [];
  const backend: BaseClassifier = {
    type: inner.type,
    numClasses: inner.numClasses,
    checkInputShape: (s) => inner.checkInputShape(s),
    classify: (x, count, s) => {
      calls.push(count);
      return inner.classify(x, count, s);
    },
    dispose: () => inner.dispose(),
  };
  return { backend, calls };
}

const sequential = () => new SequentialCertifier({ alpha: 0.05, maxSamples: 3000, n0: 200 });
const smoothedWith = (backend: BaseClassifier, imagesInFlight: number, certifier: CohenCertifier | SequentialCertifier = sequential()) =>
  new SmoothedClassifier(new AblationPerturbation({ retain: 8 }), new MultichannelEncoder(), backend, certifier, { batchSize: 500, seed: 5, imagesInFlight });

describe('SmoothedClassifier: imagesInFlight', () => {
  it('certificates of calls run at once are those of calls run one at a time, from fewer, fuller backend calls', async () => {
    const one = logged(onesClassifier());
    const single = smoothedWith(one.backend, 1);
    const alone: Certificate[] = [];
    for (let i = 0; i < 8; i++) alone.push(await single.certify(image(i), { index: i }));
    const many = logged(onesClassifier());
    const shared = smoothedWith(many.backend, 4);
    const together = await Promise.all(Array.from({ length: 8 }, (_, i) => shared.certify(image(i), { index: i })));
    expect(together).toEqual(alone);
    // the sequential checks differ per image (some stop early): merging is exercised, not just batching equal sizes
    expect(new Set(alone.map((c) => c.samples)).size).toBeGreaterThan(2);
    expect(many.calls.reduce((a, b) => a + b, 0)).toBe(one.calls.reduce((a, b) => a + b, 0));
    expect(many.calls.length).toBeLessThan(one.calls.length / 2);
    expect(Math.max(...many.calls)).toBeLessThanOrEqual(500);
    expect(shared.coalescer!.stats).toMatchObject({ calls: many.calls.length, rows: many.calls.reduce((a, b) => a + b, 0) });
    expect(single.coalescer).toBeUndefined();
  });

  it('runs at most imagesInFlight calls at once, the rest in arrival order', async () => {
    const { backend, calls } = rowBackend({ delayMs: 2 });
    const zeros = new FunctionClassifier({ numClasses: 3, predict: () => 0 });
    const counting: BaseClassifier = { ...backend, numClasses: 3, classify: async (x, n, s) => (await backend.classify(x, n, s), zeros.classify(x, n, s)) };
    const smoothed = smoothedWith(counting, 2, new CohenCertifier({ alpha: 0.05, n0: 10, n: 30 }));
    const certs = await Promise.all(Array.from({ length: 5 }, (_, i) => smoothed.certify(image(i), { index: i })));
    expect(certs.every((c) => c.prediction === 0 && c.samples === 40)).toBe(true);
    // the first backend call holds the selection samples of the two calls that got a lane, and no call ever
    // holds more than two calls' requests (each request is at most 30 rows)
    expect(calls[0]).toBe(20);
    expect(Math.max(...calls)).toBeLessThanOrEqual(60);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(200);
  });

  it('an aborted call rejects alone; the others give their certificates', async () => {
    const reference = smoothedWith(onesClassifier(), 1);
    const expected = [];
    for (let i = 0; i < 4; i++) expected.push(await reference.certify(image(i), { index: i }));
    const smoothed = smoothedWith(onesClassifier(), 4);
    const controller = new AbortController();
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, (_, i) =>
        smoothed.certify(image(i), {
          index: i,
          signal: i === 2 ? controller.signal : undefined,
          onProgress: i === 2 ? (p) => p.samples >= 32 && controller.abort() : undefined,
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ name: 'AbortError', code: 'ABORTED' });
    for (const i of [0, 1, 3]) expect((results[i] as PromiseFulfilledResult<Certificate>).value).toEqual(expected[i]);
  });

  it('dispose() rejects the calls queued for a lane at once, while a running call still waits for its batch', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const inner = onesClassifier();
    const backend: BaseClassifier = { type: 'gated', numClasses: 3, checkInputShape() {}, classify: async (x, n, s) => (await gate, inner.classify(x, n, s)), dispose() {} };
    const smoothed = smoothedWith(backend, 1);
    const running = smoothed.certify(image(0), { index: 0 });
    const queued = [smoothed.certify(image(1), { index: 1 }), smoothed.certify(image(2), { index: 2 })];
    await new Promise((r) => setTimeout(r, 5));
    const disposed = smoothed.dispose();
    // the backend is still blocked: only the queued calls can have settled
    const early = await Promise.race([Promise.allSettled(queued), new Promise((r) => setTimeout(() => r('still pending'), 50))]);
    expect(early).toEqual([
      { status: 'rejected', reason: expect.objectContaining({ code: 'ABLATE_DISPOSED' }) },
      { status: 'rejected', reason: expect.objectContaining({ code: 'ABLATE_DISPOSED' }) },
    ]);
    release();
    await expect(running).rejects.toMatchObject({ code: 'ABLATE_DISPOSED' });
    await disposed;
  });

  it('dispose() waits for every call in flight, rejects them and queued ones with DisposedError, then releases the model once', async () => {
    let disposed = 0;
    let busy = 0;
    const inner = onesClassifier();
    const backend: BaseClassifier = {
      type: 'slow',
      numClasses: 3,
      checkInputShape() {},
      classify: async (x, n, s) => {
        busy++;
        await new Promise((r) => setTimeout(r, 3));
        busy--;
        return inner.classify(x, n, s);
      },
      dispose: () => {
        expect(busy).toBe(0);
        disposed++;
      },
    };
    const smoothed = smoothedWith(backend, 3);
    const calls = Array.from({ length: 6 }, (_, i) => smoothed.certify(image(i), { index: i }));
    await new Promise((r) => setTimeout(r, 10));
    await Promise.all([smoothed.dispose(), smoothed.dispose()]);
    const results = await Promise.allSettled(calls);
    expect(results.every((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'ABLATE_DISPOSED')).toBe(true);
    expect(disposed).toBe(1);
    await expect(smoothed.certify(image(0))).rejects.toMatchObject({ code: 'ABLATE_DISPOSED' });
  });

  it('a perturbation that throws mid-call fails that call only (its slots are not handed on while a request still reads them)', async () => {
    const reference = smoothedWith(onesClassifier(), 1);
    const expected = await reference.certify(image(1), { index: 1 });
    const perturbation = new AblationPerturbation({ retain: 8 });
    let batches = 0;
    const sample = perturbation.sample.bind(perturbation);
    perturbation.sample = (data, shape, rng, batch, count) => {
      if (data[0] === image(3).data[0] && data.every((v, j) => v === image(3).data[j]) && ++batches === 3) throw new Error('broken plug-in');
      return sample(data, shape, rng, batch, count);
    };
    const smoothed = new SmoothedClassifier(perturbation, new MultichannelEncoder(), onesClassifier(), sequential(), { batchSize: 500, seed: 5, imagesInFlight: 2 });
    const [ok, broken] = await Promise.allSettled([smoothed.certify(image(1), { index: 1 }), smoothed.certify(image(3), { index: 3 })]);
    expect(broken).toMatchObject({ status: 'rejected', reason: { message: 'broken plug-in' } });
    expect(ok).toEqual({ status: 'fulfilled', value: expected });
  });

  it('refuses an imagesInFlight outside 1 … 64, naming it', () => {
    for (const bad of [0, 65, 2.5, Number.NaN]) {
      expect(() => smoothedWith(onesClassifier(), bad)).toThrow(expect.objectContaining({ code: 'ABLATE_ARGUMENT', field: 'imagesInFlight' }));
    }
  });
});

// ---- dataset runs ----

const withoutSeconds = (rows: object[]) => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'seconds')));
async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const row of rows) all.push(row);
  return all;
}

const mnistConfig: AblateConfig = {
  dataset: { type: 'mnist', split: 'test' },
  perturbation: { type: 'ablation', retain: 45 },
  encoder: { type: 'multichannel' },
  classifier: { type: 'onnx', model: join(root, 'models/mnist-k45-multichannel.onnx'), executionProviders: ['cpu'] },
  certifier: { type: 'sequential', alpha: 0.05, maxSamples: 11000 },
  batchSize: 1000,
  seed: 0,
};

describe('certifyAll / predictAll with imagesInFlight (real MNIST model, onnxruntime-node)', () => {
  it('yields in index order the rows of a one-at-a-time run, skipping `done`, with fuller batches', async () => {
    await using alone = await createContainer(mnistConfig);
    const expected = await collect(alone.certifyAll({ start: 0, count: 10, done: [3] }));
    await using rt = await createContainer({ ...mnistConfig, imagesInFlight: 6 });
    expect(rt.smoothed.imagesInFlight).toBe(6);
    const progressIndices = new Set<number>();
    const got = await collect(rt.certifyAll({ start: 0, count: 10, done: [3], onProgress: (p) => progressIndices.add(p.index) }));
    expect(got.map((r) => r.index)).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9]);
    expect(withoutSeconds(got)).toEqual(withoutSeconds(expected));
    expect([...progressIndices].sort((a, b) => a - b)).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9]);
    const { calls, rows } = rt.smoothed.coalescer!.stats;
    expect(rows).toBe(got.reduce((a, r) => a + r.samples, 0));
    expect(rows / calls).toBeGreaterThan(300);
    // PREDICT rows too (sequential PREDICT: small checks)
    expect(withoutSeconds(await collect(rt.predictAll({ count: 5, n: 2000, sequential: true })))).toEqual(withoutSeconds(await collect(alone.predictAll({ count: 5, n: 2000, sequential: true }))));
  });

  it('stopping early aborts the images still running and leaves the runtime usable', async () => {
    await using rt = await createContainer({ ...mnistConfig, imagesInFlight: 4 });
    const seen: number[] = [];
    for await (const row of rt.certifyAll({ count: 20 })) {
      seen.push(row.index);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual([0, 1]);
    // the images that were running were stopped and awaited: the lanes are free again
    const again = await collect(rt.certifyAll({ start: 5, count: 1 }));
    expect(again.map((r) => r.index)).toEqual([5]);
  });

  it('an abort through the signal rejects the run with AbortError', async () => {
    await using rt = await createContainer({ ...mnistConfig, imagesInFlight: 4 });
    const controller = new AbortController();
    const seen: number[] = [];
    const run = (async () => {
      for await (const row of rt.certifyAll({ count: 30, signal: controller.signal, onProgress: (p) => p.done >= 3 && controller.abort() })) seen.push(row.index);
    })();
    await expect(run).rejects.toMatchObject({ name: 'AbortError', code: 'ABORTED' });
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual(seen.map((_, i) => i));
  });

  it('the config and the CLI refuse a bad imagesInFlight, naming it; `--images-in-flight` writes the same rows', async () => {
    await expect(createContainer({ ...mnistConfig, imagesInFlight: 0 })).rejects.toMatchObject({ code: 'ABLATE_CONFIG', message: expect.stringContaining('/imagesInFlight') });
    await expect(createContainer({ ...mnistConfig, imagesInFlight: 65 })).rejects.toMatchObject({ code: 'ABLATE_CONFIG', message: expect.stringContaining('/imagesInFlight') });
    const dir = mkdtempSync(join(tmpdir(), 'ablate-in-flight-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(mnistConfig));
    const bin = join(root, 'packages/cli/dist/bin.js');
    const bad = spawnSync(process.execPath, [bin, 'certify', '--config', file, '--count', '1', '--images-in-flight', '0'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--images-in-flight');
    const out = join(dir, 'rows.jsonl');
    const first = spawnSync(process.execPath, [bin, 'certify', '--config', file, '--count', '3', '--images-in-flight', '3', '--out', out], { encoding: 'utf8' });
    expect(first.status).toBe(0);
    // a resume with another imagesInFlight is allowed (it changes no row) and finishes the range
    const resumed = spawnSync(process.execPath, [bin, 'certify', '--config', file, '--count', '5', '--out', out, '--resume'], { encoding: 'utf8' });
    expect(resumed.stderr).not.toMatch(/error/i);
    expect(resumed.status).toBe(0);
    const cli = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    await using alone = await createContainer(mnistConfig);
    expect(withoutSeconds(cli)).toEqual(withoutSeconds(await collect(alone.certifyAll({ count: 5 }))));
  });
});
