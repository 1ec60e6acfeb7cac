import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
// The built packages, as an app uses them.
import {
  AblationPerturbation,
  BatchCoalescer,
  CohenCertifier,
  datasetRows,
  FunctionClassifier,
  LecuyerCertifier,
  MultichannelEncoder,
  PartitionPerturbation,
  SequentialCertifier,
  SmoothedClassifier,
  VoteGapCertifier,
  type BaseClassifier,
  type Certificate,
  type Certifier,
  type CertifyRow,
  type Dataset,
  type DatasetRunSource,
  type Image,
  type Perturbation,
  type PredictRow,
  type Shape,
  type SmoothingOptions,
} from '@ablate/core';

// A hostile review of imagesInFlight: each case compares K > 1 with K = 1 (exact rows), or pins an error / a
// cleanup guarantee. The cases marked "(defect)" failed before the fix of the same commit.

const coreDist = resolve(__dirname, '../dist/index.js');

/** Image i of `side` × `side`: a fixed pattern of ones whose density grows with i, so the images' p_A differ. */
function image(i: number, side = 6): Image {
  const data = new Float32Array(side * side);
  for (let j = 0; j < side * side; j++) data[j] = (j * 7 + i * 3) % 10 < 3 + (i % 6) ? 1 : 0;
  return { data, shape: [1, side, side] };
}

/** Class 1 when at least 3 kept pixels are ones (channel 0 of the multichannel encoding, any image size), else 0. */
function onesPredict(row: Float32Array): number {
  let ones = 0;
  for (let j = 0; j < row.length / 2; j++) if (row[j]! > 0.5) ones++;
  return ones >= 3 ? 1 : 0;
}

/** A backend of onesPredict with options: a delay, what it returns, a log of every call (count, features per row). */
function backend(options: { delayMs?: number; out?: (classes: Int32Array) => ArrayLike<number>; reentrant?: boolean } = {}) {
  const inner = new FunctionClassifier({ numClasses: 3, predict: onesPredict });
  const calls: Array<{ count: number; features: number; length: number }> = [];
  let busy = 0;
  let overlapped = false;
  let disposed = 0;
  const b: BaseClassifier = {
    type: 'hostile',
    numClasses: 3,
    checkInputShape() {},
    async classify(input, count, shape) {
      if (busy > 0) overlapped = true;
      busy++;
      try {
        calls.push({ count, features: shape[0] * shape[1] * shape[2], length: input.length });
        if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
        const classes = Int32Array.from(await inner.classify(input, count, shape));
        return options.out ? options.out(classes) : classes;
      } finally {
        busy--;
      }
    },
    dispose() {
      if (busy > 0) throw new Error('disposed while a call runs');
      disposed++;
    },
  };
  return { backend: b, calls, overlapped: () => overlapped, busy: () => busy, disposed: () => disposed };
}

const cohen = () => new CohenCertifier({ alpha: 0.05, n0: 20, n: 200 });
const sequential = () => new SequentialCertifier({ alpha: 0.05, maxSamples: 2000, n0: 100 });
function smoothedWith(b: BaseClassifier, imagesInFlight: number, certifier: Certifier = sequential(), perturbation: Perturbation = new AblationPerturbation({ retain: 8 }), batchSize = 100) {
  const options: SmoothingOptions = { batchSize, seed: 3, imagesInFlight };
  return new SmoothedClassifier(perturbation, new MultichannelEncoder(), b, certifier, options);
}

/** Certificates of images 0 … m − 1, one at a time on a K = 1 classifier. */
async function oneAtATime(m: number, certifier: () => Certifier = sequential, images = (i: number) => image(i)): Promise<Certificate[]> {
  const s = smoothedWith(backend().backend, 1, certifier());
  const out: Certificate[] = [];
  for (let i = 0; i < m; i++) out.push(await s.certify(images(i), { index: i }));
  return out;
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('BatchCoalescer, hostile backends', () => {
  const shape: Shape = [1, 1, 2];
  const rows = (count: number) => new Float32Array(count * 2);
  const answering = (answer: (count: number) => ArrayLike<number>): BaseClassifier => ({ type: 'a', numClasses: 3, checkInputShape() {}, classify: async (_x, count) => answer(count), dispose() {} });

  it('(defect) passes NaN, fractional and wrapped classes to the caller as they came (an Int32Array copy made NaN class 0)', async () => {
    for (const bad of [Number.NaN, 1.5, 2 ** 32 + 1, -1]) {
      const c = new BatchCoalescer(
        answering((n) => new Array(n).fill(bad)),
        100,
      );
      const [a, b] = await Promise.all([c.classify(rows(2), 2, shape), c.classify(rows(3), 3, shape)]);
      expect(Array.from(a)).toEqual([bad, bad]);
      expect(Array.from(b)).toEqual([bad, bad, bad]);
      expect(c.stats.calls).toBe(1);
    }
  });

  it('(defect) a backend answering NaN fails certify with K = 4 exactly as with K = 1 (no certificate from non-finite output)', async () => {
    for (const K of [1, 4]) {
      const s = smoothedWith(backend({ out: (c) => Array.from(c, () => Number.NaN) }).backend, K, cohen());
      const results = await Promise.allSettled([0, 1, 2].map((i) => s.certify(image(i), { index: i })));
      for (const r of results) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'ABLATE_MODEL', message: expect.stringContaining('returned class NaN') } });
    }
  });

  it('(defect) a class 1.5 or 2^32 + 1 is refused with K = 3 as with K = 1 (before: counted as class 1)', async () => {
    for (const bad of [1.5, 2 ** 32 + 1]) {
      for (const K of [1, 3]) {
        const s = smoothedWith(backend({ out: (c) => Array.from(c, (v) => (v === 1 ? bad : v)) }).backend, K, cohen());
        await expect(s.certify(image(5), { index: 5 })).rejects.toMatchObject({ code: 'ABLATE_MODEL', message: expect.stringContaining(`returned class ${bad}`) });
      }
    }
  });

  it('a plain Array, a Float64Array, a longer array or a reused buffer give the certificates of K = 1', async () => {
    const expected = await oneAtATime(6, cohen);
    let shared = new Float64Array(0);
    const outs: Array<(c: Int32Array) => ArrayLike<number>> = [
      (c) => Array.from(c),
      (c) => Float64Array.from(c),
      (c) => Int32Array.from([...c, 2, 2, 2]),
      (c) => {
        if (shared.length < c.length) shared = new Float64Array(c.length);
        shared.set(c);
        return shared.subarray(0, c.length);
      },
    ];
    for (const out of outs) {
      const s = smoothedWith(backend({ out }).backend, 3, cohen());
      expect(await Promise.all(Array.from({ length: 6 }, (_, i) => s.certify(image(i), { index: i })))).toEqual(expected);
    }
  });

  it('(defect) refuses a request shorter than its count, or larger than maxRows, naming the argument (a merged call read stale rows)', async () => {
    const c = new BatchCoalescer(answering((n) => new Int32Array(n)), 100);
    await expect(c.classify(rows(2), 3, shape)).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'input' });
    await expect(c.classify(rows(101), 101, shape)).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'count' });
    await expect(c.classify(rows(2), 1.5, shape)).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'count' });
    expect(c.stats.calls).toBe(0);
  });

  it('(defect) the merged batch grows with the rows merged, not to batchSize up front (288 MB for two images of 110 samples)', async () => {
    const s = smoothedWith(backend().backend, 2, cohen(), undefined, 1_000_000);
    const before = process.memoryUsage().arrayBuffers;
    const certs = await Promise.all([s.certify(image(0), { index: 0 }), s.certify(image(1), { index: 1 })]);
    expect(certs.map((c) => c.samples)).toEqual([220, 220]);
    expect(s.coalescer!.stats.calls).toBeLessThan(s.coalescer!.stats.requests); // merged
    // buffer sets of 200 rows and a merged batch of 400 rows of 72 floats: well under 1 MB (batchSize rows: 288 MB)
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16e6);
  });

  it('a request of 0 rows resolves empty without a backend call (before: a backend call of 0 rows)', async () => {
    const c = new BatchCoalescer(answering(() => new Int32Array(0)), 100);
    expect(Array.from(await c.classify(rows(0), 0, shape))).toEqual([]);
    expect(c.stats.calls).toBe(0);
  });

  it('never calls a non-reentrant backend twice at once, whatever K', async () => {
    const expected = await oneAtATime(8);
    const b = backend({ delayMs: 1 });
    const s = smoothedWith(b.backend, 8);
    expect(await Promise.all(Array.from({ length: 8 }, (_, i) => s.certify(image(i), { index: i })))).toEqual(expected);
    expect(b.overlapped()).toBe(false);
  });

  it('(defect) merged: each image samples its next batch while the backend call holding its batch runs, as with K = 1 (before: all K images sampled first, the backend idle)', async () => {
    for (const K of [1, 2, 4]) {
      let running = false;
      let during = 0;
      let fills = 0;
      const perturbation = new AblationPerturbation({ retain: 8 });
      const sample = perturbation.sample.bind(perturbation);
      perturbation.sample = (data, shape, rng, batch, count) => {
        fills++;
        if (running) during++;
        return sample(data, shape, rng, batch, count);
      };
      const inner = new FunctionClassifier({ numClasses: 3, predict: onesPredict });
      const asyncBackend: BaseClassifier = {
        type: 'async',
        numClasses: 3,
        checkInputShape() {},
        async classify(x, n, shape) {
          running = true;
          await tick(2); // the work happens off the main thread (a GPU, onnxruntime's thread pool)
          running = false;
          return inner.classify(x, n, shape);
        },
        dispose() {},
      };
      const s = smoothedWith(asyncBackend, K, new CohenCertifier({ alpha: 0.05, n0: 10, n: 1000 }), perturbation);
      await Promise.all(Array.from({ length: K }, (_, i) => s.certify(image(i), { index: i })));
      // per image: 1 selection batch and 10 estimation batches; each batch but a procedure's first is sampled while
      // an earlier one is classified
      expect(fills).toBe(11 * K);
      expect(during).toBe(9 * K);
    }
  });

  it('images of two sizes in one classifier: never mixed in one backend call, certificates those of K = 1', async () => {
    const images = (i: number) => image(i, i % 2 ? 5 : 6);
    const expected = await oneAtATime(8, sequential, images);
    const b = backend();
    const s = smoothedWith(b.backend, 4);
    expect(await Promise.all(Array.from({ length: 8 }, (_, i) => s.certify(images(i), { index: i })))).toEqual(expected);
    // every call's input is exactly count rows of one encoded shape (2 × 6 × 6 or 2 × 5 × 5)
    expect(new Set(b.calls.map((c) => c.features))).toEqual(new Set([72, 50]));
    for (const c of b.calls) expect(c.length).toBeGreaterThanOrEqual(c.count * c.features);
    expect(s.coalescer!.stats.calls).toBeLessThan(s.coalescer!.stats.requests);
  });

  it('(defect) without setImmediate (MessageChannel path) requests still merge and the process exits when done', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ablate-channel-'));
    const script = join(dir, 'channel.mjs');
    writeFileSync(
      script,
      `delete globalThis.setImmediate;
const { BatchCoalescer } = await import(${JSON.stringify(coreDist)});
const calls = [];
const b = { type: 'x', numClasses: 3, checkInputShape() {}, async classify(x, n) { calls.push(n); return Int32Array.from({ length: n }, (_, i) => x[2 * i]); }, dispose() {} };
const c = new BatchCoalescer(b, 100);
const out = await Promise.all([1, 2, 3].map((v) => c.classify(new Float32Array(2 * v).fill(v), v, [1, 1, 2])));
const again = await c.classify(new Float32Array(2).fill(2), 1, [1, 1, 2]);
console.log(JSON.stringify({ calls, out: out.map((a) => Array.from(a)), again: Array.from(again) }));
`,
    );
    const run = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 20_000 });
    expect(run.signal).toBeNull(); // before: the port's listener kept the process alive until the timeout killed it
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ calls: [6, 1], out: [[1], [2, 2], [3, 3, 3]], again: [2] });
  });
});

describe('SmoothedClassifier with imagesInFlight: races', () => {
  it('an abort between submission and the merged call’s return rejects that call alone, after the call returns', async () => {
    const expected = await oneAtATime(4, cohen);
    const b = backend({ delayMs: 20 });
    const s = smoothedWith(b.backend, 4, cohen());
    const controller = new AbortController();
    const pending = Array.from({ length: 4 }, (_, i) => s.certify(image(i), { index: i, signal: i === 1 ? controller.signal : undefined }));
    await tick(5); // the first merged call (all four selections) is with the backend
    expect(b.busy()).toBe(1);
    controller.abort();
    const results = await Promise.allSettled(pending);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ name: 'AbortError', code: 'ABORTED' });
    for (const i of [0, 2, 3]) expect((results[i] as PromiseFulfilledResult<Certificate>).value).toEqual(expected[i]);
  });

  it('(defect) a call aborted while it waits for a lane rejects at once, not when a lane frees', async () => {
    const b = backend({ delayMs: 40 });
    const s = smoothedWith(b.backend, 2, cohen(), undefined, 20);
    const holders = [0, 1].map((i) => s.certify(image(i), { index: i }));
    const controller = new AbortController();
    const queued = s.certify(image(2), { index: 2, signal: controller.signal });
    const behind = s.certify(image(3), { index: 3 });
    const t0 = performance.now();
    controller.abort();
    await expect(queued).rejects.toMatchObject({ code: 'ABORTED' });
    // holders need 11 backend calls of 40 ms each; the queued call did not wait for them
    expect(performance.now() - t0).toBeLessThan(200);
    expect(b.calls.length).toBeLessThan(3);
    // the queue is intact: the call behind it gets its lane and its certificate
    const expected = await oneAtATime(4, cohen);
    expect(await Promise.all([...holders, behind])).toEqual([expected[0], expected[1], expected[3]]);
  });

  it('(defect) refuses an object that only looks like a signal ({ aborted: false }) with an ArgumentError at K = 1 and K = 3', async () => {
    for (const K of [1, 3]) {
      const s = smoothedWith(backend().backend, K, cohen());
      await expect(s.certify(image(0), { signal: { aborted: false } as AbortSignal })).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'signal' });
    }
  });

  it('a backend promise that never settles: calls queued for a lane can still be aborted; dispose() waits for it (documented)', async () => {
    let started = 0;
    const hung: BaseClassifier = { type: 'hung', numClasses: 3, checkInputShape() {}, classify: () => (started++, new Promise<never>(() => {})), dispose() {} };
    const s = smoothedWith(hung, 2, cohen());
    const holders = [0, 1].map((i) => s.certify(image(i), { index: i }));
    const controller = new AbortController();
    const queued = s.certify(image(2), { index: 2, signal: controller.signal });
    await tick(10);
    expect(started).toBe(1); // the two holders' selection rows, merged into one call that never returns
    controller.abort();
    await expect(queued).rejects.toMatchObject({ code: 'ABORTED' });
    const settled = await Promise.race([s.dispose().then(() => 'disposed'), ...holders.map((h) => h.then(() => 'certified')), tick(100).then(() => 'waiting')]);
    expect(settled).toBe('waiting');
  });

  it('dispose() during a merged call: every call rejects with DisposedError, the model is released once, after the call', async () => {
    const b = backend({ delayMs: 15 });
    const s = smoothedWith(b.backend, 3);
    const pending = Array.from({ length: 5 }, (_, i) => s.certify(image(i), { index: i }));
    await tick(5);
    expect(b.busy()).toBe(1);
    await s.dispose();
    expect(b.disposed()).toBe(1);
    expect(b.busy()).toBe(0);
    const results = await Promise.allSettled(pending);
    expect(results.every((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'ABLATE_DISPOSED')).toBe(true);
  });

  it('dispose() called from inside onProgress ends every call with DisposedError and releases the model once', async () => {
    const b = backend();
    const s = smoothedWith(b.backend, 3);
    let disposing: Promise<void> | undefined;
    const pending = Array.from({ length: 4 }, (_, i) => s.certify(image(i), { index: i, onProgress: i === 0 ? () => void (disposing ??= s.dispose()) : undefined }));
    const results = await Promise.allSettled(pending);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as { code?: string }).code : 'fulfilled'))).toEqual(['ABLATE_DISPOSED', 'ABLATE_DISPOSED', 'ABLATE_DISPOSED', 'ABLATE_DISPOSED']);
    await disposing;
    expect(b.disposed()).toBe(1);
  });

  it('certify called from inside onProgress (K = 2 and K = 1) queues and gives the certificate of a call made alone', async () => {
    const expected = await oneAtATime(6);
    for (const K of [1, 2]) {
      const s = smoothedWith(backend().backend, K);
      let inner: Promise<Certificate> | undefined;
      const outer = s.certify(image(0), { index: 0, onProgress: () => void (inner ??= s.certify(image(5), { index: 5 })) });
      expect(await outer).toEqual(expected[0]);
      expect(await inner).toEqual(expected[5]);
    }
  });

  it('an onProgress that throws fails its own call with that error; the others give the certificates of K = 1', async () => {
    const expected = await oneAtATime(4);
    const s = smoothedWith(backend().backend, 4);
    const boom = new Error('progress handler broke');
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, (_, i) =>
        s.certify(image(i), {
          index: i,
          onProgress:
            i === 2
              ? (p) => {
                  if (p.samples >= 100) throw boom;
                }
              : undefined,
        }),
      ),
    );
    expect(results[2]).toEqual({ status: 'rejected', reason: boom });
    for (const i of [0, 1, 3]) expect(results[i]).toEqual({ status: 'fulfilled', value: expected[i] });
  });
});

describe('SmoothedClassifier with imagesInFlight: every procedure gives the results of K = 1', () => {
  const m = 6;
  const all = <T>(K: number, certifier: Certifier, perturbation: Perturbation | undefined, f: (s: SmoothedClassifier, i: number) => Promise<T>, batchSize?: number) => {
    const s = smoothedWith(backend().backend, K, certifier, perturbation, batchSize);
    return K === 1
      ? (async () => {
          const out: T[] = [];
          for (let i = 0; i < m; i++) out.push(await f(s, i));
          return out;
        })()
      : Promise.all(Array.from({ length: m }, (_, i) => f(s, i)));
  };

  it('sequential PREDICT', async () => {
    const f = (s: SmoothedClassifier, i: number) => s.predict(image(i), { index: i, n: 3000, sequential: true });
    const one = await all(1, cohen(), undefined, f);
    expect(await all(4, cohen(), undefined, f)).toEqual(one);
    expect(new Set(one.map((p) => p.n)).size).toBeGreaterThan(1); // stops at different checks: merging exercised
  });

  it('certifyAndPredict (certify --predict) with Cohen', async () => {
    const f = (s: SmoothedClassifier, i: number) => s.certifyAndPredict(image(i), { index: i, predictN: 300 });
    expect(await all(3, cohen(), undefined, f)).toEqual(await all(1, cohen(), undefined, f));
  });

  it('vote-gap (enumeration of a partition)', async () => {
    const f = (s: SmoothedClassifier, i: number) => s.certify(image(i), { index: i });
    const one = await all(1, new VoteGapCertifier(), new PartitionPerturbation({ parts: 9 }), f, 4);
    expect(one.every((c) => c.deterministic && c.n === 9)).toBe(true);
    expect(await all(5, new VoteGapCertifier(), new PartitionPerturbation({ parts: 9 }), f, 4)).toEqual(one);
  });

  it('Lecuyer', async () => {
    const f = (s: SmoothedClassifier, i: number) => s.certify(image(i), { index: i });
    expect(await all(6, new LecuyerCertifier({ alpha: 0.05, n0: 20, n: 300 }, 3), undefined, f)).toEqual(await all(1, new LecuyerCertifier({ alpha: 0.05, n0: 20, n: 300 }, 3), undefined, f));
  });

  it('votes', async () => {
    const f = (s: SmoothedClassifier, i: number) => s.votes(image(i), 250, { index: i });
    expect(await all(4, cohen(), undefined, f)).toEqual(await all(1, cohen(), undefined, f));
  });
});

// ---- dataset runs ----

function source(K: number, options: { size?: number; getAsync?: (i: number) => Promise<{ image: Image; label: number }>; delayMs?: number } = {}) {
  const b = backend({ delayMs: options.delayMs });
  const certifier = cohen();
  const dataset: Dataset = {
    name: 'toy',
    size: options.size ?? 10,
    shape: [1, 6, 6],
    numClasses: 3,
    get: (i) => ({ image: image(i), label: 1 }),
    ...(options.getAsync ? { getAsync: options.getAsync } : {}),
  };
  const src: DatasetRunSource = { config: {}, smoothed: smoothedWith(b.backend, K, certifier), certifier, dataset };
  return { src, b };
}
const noSeconds = (rows: Array<CertifyRow | PredictRow>) => rows.map(({ seconds: _s, ...rest }) => rest);
async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const r of rows) out.push(r);
  return out;
}
const reference = async (options: Parameters<typeof datasetRows>[3] = {}, size = 10) => noSeconds(await collect(datasetRows(source(1, { size }).src, 'certify', undefined, options)));

describe('dataset runs with imagesInFlight', () => {
  it('(defect) a slow image does not leave the other lanes idle: later images keep starting while its row holds up the yield', async () => {
    // image 0's read waits until image 11 has been read (or 2 s): one at a time per window, the run would stall
    let lastRead: () => void = () => {};
    const last = new Promise<void>((r) => (lastRead = r));
    let waitedFor: 'image 11' | 'timeout' | undefined;
    const getAsync = async (i: number) => {
      if (i === 11) lastRead();
      if (i === 0) waitedFor = await Promise.race([last.then(() => 'image 11' as const), tick(2000).then(() => 'timeout' as const)]);
      return { image: image(i), label: 1 };
    };
    const { src } = source(4, { size: 12, getAsync });
    const got = await collect(datasetRows(src, 'certify', undefined, {}));
    expect(waitedFor).toBe('image 11');
    expect(noSeconds(got)).toEqual(await reference({}, 12));
  });

  it('a failing image stops new images from starting; the rows before it are yielded, then its error', async () => {
    const started: number[] = [];
    const broken = new Error('image 2 unreadable');
    const getAsync = async (i: number) => {
      started.push(i);
      if (i === 2) throw broken;
      if (i === 0) await tick(200); // the failure is seen long before row 0 is yielded
      return { image: image(i), label: 1 };
    };
    const { src } = source(3, { size: 30, getAsync });
    const seen: number[] = [];
    const run = (async () => {
      for await (const r of datasetRows(src, 'certify', undefined, {})) seen.push(r.index);
    })();
    await expect(run).rejects.toBe(broken);
    expect(seen).toEqual([0, 1]);
    // images 0–2 started together; image 2 failed at once, so none started after it (without that, images 3 … 14
    // would start while image 0 holds up the rows)
    expect(started).toEqual([0, 1, 2]);
  });

  it('`done` holding every index, count 0 and a start at the last image', async () => {
    const { src, b } = source(4);
    expect(await collect(datasetRows(src, 'certify', undefined, { done: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] }))).toEqual([]);
    expect(await collect(datasetRows(src, 'certify', undefined, { count: 0 }))).toEqual([]);
    expect(b.calls.length).toBe(0);
    expect(noSeconds(await collect(datasetRows(src, 'certify', undefined, { start: 9 })))).toEqual(await reference({ start: 9 }));
  });

  it('two runs at once on one classifier (lanes shared) each yield the rows of K = 1', async () => {
    const { src } = source(3);
    const [a, b] = await Promise.all([collect(datasetRows(src, 'certify', undefined, { count: 6 })), collect(datasetRows(src, 'certify', undefined, { start: 3, count: 6 }))]);
    expect(noSeconds(a)).toEqual(await reference({ count: 6 }));
    expect(noSeconds(b)).toEqual(await reference({ start: 3, count: 6 }));
  });

  it('predict rows with the sequential test equal those of K = 1', async () => {
    const settings = { n: 2000, sequential: true as const };
    expect(noSeconds(await collect(datasetRows(source(5).src, 'predict', settings, { count: 8 })))).toEqual(noSeconds(await collect(datasetRows(source(1).src, 'predict', settings, { count: 8 }))));
  });

  it('certify rows with PREDICT (certify --predict, Cohen) equal those of K = 1', async () => {
    const settings = { n: 300 };
    const rowsK = await collect(datasetRows(source(4).src, 'certify', settings, { count: 6 }));
    expect(rowsK.every((r) => 'predict' in r && r.predict!.n === 300)).toBe(true);
    expect(noSeconds(rowsK)).toEqual(noSeconds(await collect(datasetRows(source(1).src, 'certify', settings, { count: 6 }))));
  });

  it('dispose() while the generator is suspended with K images running: rows finished before it, then DisposedError; nothing left running', async () => {
    const { src, b } = source(4, { delayMs: 3 });
    const gen = datasetRows(src, 'certify', undefined, { count: 10 });
    const got = [(await gen.next()).value as CertifyRow];
    await src.smoothed.dispose();
    expect(b.disposed()).toBe(1);
    let error: unknown;
    try {
      for (let r = await gen.next(); !r.done; r = await gen.next()) got.push(r.value as CertifyRow);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'ABLATE_DISPOSED' });
    // the rows it still yields are those images that had finished when dispose() was called (at most K after row 0)
    expect(got.length).toBeLessThanOrEqual(5);
    expect(noSeconds(got)).toEqual((await reference({ count: 10 })).slice(0, got.length));
    expect(b.busy()).toBe(0);
    expect(await gen.next()).toEqual({ done: true, value: undefined });
  });

  it('a resume with another K (done from a K = 4 run) gives the rows of one uninterrupted K = 1 run', async () => {
    const first = await collect(datasetRows(source(4).src, 'certify', undefined, { count: 4 }));
    const rest = await collect(datasetRows(source(2).src, 'certify', undefined, { count: 8, done: first.map((r) => r.index) }));
    expect(noSeconds([...first, ...rest])).toEqual(await reference({ count: 8 }));
  });

  it('.return() while K images run: the generator finishes after they are stopped and awaited; the classifier is idle and usable', async () => {
    const { src, b } = source(4, { delayMs: 5 });
    const gen = datasetRows(src, 'certify', undefined, { count: 10 });
    expect((await gen.next()).value).toMatchObject({ index: 0 });
    expect(await gen.return(undefined)).toEqual({ done: true, value: undefined });
    expect(b.busy()).toBe(0);
    const calls = b.calls.length;
    await tick(30);
    expect(b.calls.length).toBe(calls); // nothing still running in the background
    expect(noSeconds(await collect(datasetRows(src, 'certify', undefined, { start: 7, count: 2 })))).toEqual(await reference({ start: 7, count: 2 }));
  });

  it('.throw(error) while K images run rejects with that error after the images are stopped and awaited', async () => {
    const { src, b } = source(4, { delayMs: 5 });
    const gen = datasetRows(src, 'certify', undefined, { count: 10 });
    await gen.next();
    const mine = new Error('consumer failed');
    await expect(gen.throw(mine)).rejects.toBe(mine);
    expect(b.busy()).toBe(0);
    expect(await gen.next()).toEqual({ done: true, value: undefined });
  });

  it('a getAsync that rejects for one index ends the run with its error after the rows before it, in order', async () => {
    const broken = new Error('index 3 unreadable');
    const { src, b } = source(4, { getAsync: async (i) => (i === 3 ? Promise.reject(broken) : { image: image(i), label: 1 }) });
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const r of datasetRows(src, 'certify', undefined, { count: 10 })) seen.push(r.index);
      })(),
    ).rejects.toBe(broken);
    expect(seen).toEqual([0, 1, 2]);
    expect(b.busy()).toBe(0);
  });

  it('(defect) a getAsync that never settles for a later index does not hold up a consumer that stops early', async () => {
    const { src } = source(4, { getAsync: (i) => (i === 4 ? new Promise<never>(() => {}) : Promise.resolve({ image: image(i), label: 1 })) });
    const seen: number[] = [];
    const stopped = (async () => {
      for await (const r of datasetRows(src, 'certify', undefined, { count: 10 })) {
        seen.push(r.index);
        if (r.index === 1) break;
      }
      return 'stopped';
    })();
    expect(await Promise.race([stopped, tick(3000).then(() => 'hung')])).toBe('stopped');
    expect(seen).toEqual([0, 1]);
  });

  it('(defect) a signal aborted while the run waits on a never-settling getAsync rejects the run (K = 1 and K = 3)', async () => {
    for (const K of [1, 3]) {
      const { src } = source(K, { getAsync: (i) => (i === 1 ? new Promise<never>(() => {}) : Promise.resolve({ image: image(i), label: 1 })) });
      const controller = new AbortController();
      const run = collect(datasetRows(src, 'certify', undefined, { count: 4, signal: controller.signal }));
      setTimeout(() => controller.abort(), 50);
      expect(await Promise.race([run.then(() => 'finished', (e: { code?: string }) => e.code), tick(3000).then(() => 'hung')])).toBe('ABORTED');
    }
  });

  it('(defect) a run whose images wait for lanes held by another run stops at once when its signal aborts', async () => {
    const { src } = source(2, { delayMs: 50 });
    const busy = collect(datasetRows(src, 'certify', undefined, { count: 4 }));
    await tick(5);
    const controller = new AbortController();
    const waiting = collect(datasetRows(src, 'certify', undefined, { start: 5, count: 4, signal: controller.signal }));
    await tick(5); // its images are queued for a lane
    expect(src.smoothed.coalescer!.stats.requests).toBe(2);
    const t0 = performance.now();
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    expect(performance.now() - t0).toBeLessThan(150); // the other run holds both lanes for 6 backend calls of 50 ms
    expect(noSeconds(await busy)).toEqual(await reference({ count: 4 }));
  });

  it('(defect) refuses an object that only looks like a signal with an ArgumentError at K = 3 (before: a raw TypeError)', async () => {
    await expect(collect(datasetRows(source(3).src, 'certify', undefined, { count: 2, signal: { aborted: false } as AbortSignal }))).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'signal' });
  });

  it('an onProgress that throws in one image ends the run with that error, the others stopped, no unhandled rejection (strict)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ablate-strict-'));
    const script = join(dir, 'strict.mjs');
    writeFileSync(
      script,
      `const { AblationPerturbation, CohenCertifier, datasetRows, FunctionClassifier, MultichannelEncoder, SmoothedClassifier } = await import(${JSON.stringify(coreDist)});
const image = (i) => ({ data: Float32Array.from({ length: 36 }, (_, j) => ((j * 7 + i * 3) % 10 < 3 + (i % 6) ? 1 : 0)), shape: [1, 6, 6] });
let busy = 0;
const inner = new FunctionClassifier({ numClasses: 3, predict: (row) => (row[0] > 0.5 ? 1 : 0) });
const b = { type: 'x', numClasses: 3, checkInputShape() {}, async classify(x, n, s) { busy++; await new Promise((r) => setTimeout(r, 2)); busy--; return inner.classify(x, n, s); }, dispose() {} };
const certifier = new CohenCertifier({ alpha: 0.05, n0: 20, n: 200 });
const smoothed = new SmoothedClassifier(new AblationPerturbation({ retain: 8 }), new MultichannelEncoder(), b, certifier, { batchSize: 50, seed: 1, imagesInFlight: 4 });
const dataset = { name: 'toy', size: 10, shape: [1, 6, 6], numClasses: 3, get: (i) => ({ image: image(i), label: 1 }) };
const seen = [];
let error;
try {
  for await (const r of datasetRows({ config: {}, smoothed, certifier, dataset }, 'certify', undefined, { onProgress: (p) => { if (p.index === 2 && p.image.samples >= 100) throw new Error('handler broke at 2'); } })) seen.push(r.index);
} catch (e) { error = e.message; }
await new Promise((r) => setTimeout(r, 50));
console.log(JSON.stringify({ seen, error, busy }));
`,
    );
    const run = spawnSync(process.execPath, ['--unhandled-rejections=strict', script], { encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ seen: [0, 1], error: 'handler broke at 2', busy: 0 });
  });
});
