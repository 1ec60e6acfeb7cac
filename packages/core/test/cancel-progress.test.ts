import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
// The built packages, as an app uses them: the ONNX backend and the MNIST loader register into core's shared registry.
import {
  AblateError,
  asyncDispose,
  checkSchedule,
  clopperPearsonLower,
  createContainer,
  FunctionClassifier,
  PointwiseAttack,
  predictDecider,
  baseClassifierDecider,
  type AblateConfig,
  type AblateRuntime,
  type RunProgress,
} from '@ablate/core';
import { OnnxClassifier } from '@ablate/backend-onnx';
import '@ablate/datasets';

const root = resolve(__dirname, '../../..');
const model = join(root, 'models/mnist-k45-multichannel.onnx');

const config = (certifier: AblateConfig['certifier'], batchSize = 100): AblateConfig => ({
  dataset: { type: 'mnist', split: 'test' },
  perturbation: { type: 'ablation', retain: 45 },
  encoder: { type: 'multichannel' },
  classifier: { type: 'onnx', model, executionProviders: ['cpu'], batchSize },
  certifier,
  seed: 0,
});

/** Counts the samples the backend really classifies (independently of the engine's progress reports). */
function countClassified(rt: AblateRuntime, after?: (total: number) => void): { total: number } {
  const counter = { total: 0 };
  const classify = rt.classifier.classify.bind(rt.classifier);
  rt.classifier.classify = async (input, count, shape) => {
    const out = await classify(input, count, shape);
    counter.total += count;
    after?.(counter.total);
    return out;
  };
  return counter;
}

const isAbort = (e: unknown) => e instanceof AblateError && e.name === 'AbortError' && e.code === 'ABORTED';

describe('cancel (signal) on the ONNX backend', () => {
  it('an n = 100 000 certify aborted from outside stops within one batch, with a coded AbortError', async () => {
    const rt = await createContainer(config({ type: 'cohen', alpha: 0.001, n0: 100, n: 100_000 }));
    try {
      const controller = new AbortController();
      let atAbort = -1;
      let scheduled = false;
      const classified = countClassified(rt, (total) => {
        // Abort from a timer (as a UI or a server would), while the next batch is being classified.
        if (total < 1000 || scheduled) return;
        scheduled = true;
        setTimeout(() => {
          atAbort = classified.total;
          controller.abort(new Error('user pressed cancel'));
        }, 0);
      });
      const events: RunProgress[] = [];
      const error = await rt.smoothed.certify(rt.dataset!.get(0).image, { index: 0, signal: controller.signal, onProgress: (p) => events.push(p) }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isAbort(error)).toBe(true);
      expect((error as AblateError).cause).toMatchObject({ message: 'user pressed cancel' });
      expect((error as Error).message).toMatch(/aborted: user pressed cancel/);
      expect(atAbort).toBeGreaterThanOrEqual(1000);
      // At most the batch in flight when the signal fired was classified after it (batchSize 100).
      expect(classified.total - atAbort).toBeLessThanOrEqual(100);
      expect(classified.total).toBeLessThan(5000);
      // The progress reports count exactly what was classified.
      expect(events.at(-1)!.samples).toBe(classified.total);
      expect(events.at(-1)!.planned).toBe(100_100);
    } finally {
      await rt.dispose();
    }
  });

  it('after an abort the runtime gives the certificate a fresh runtime gives (each index has its own stream)', async () => {
    const cfg = config({ type: 'cohen', alpha: 0.05, n0: 100, n: 2000 });
    const rt = await createContainer(cfg);
    const fresh = await createContainer(cfg);
    try {
      const x = rt.dataset!.get(3).image;
      const controller = new AbortController();
      const aborted = rt.smoothed.certify(x, { index: 3, signal: controller.signal, onProgress: (p) => p.samples >= 700 && controller.abort() });
      await expect(aborted).rejects.toSatisfy(isAbort);
      // votes / predict aborted the same way leave nothing behind either
      const c2 = new AbortController();
      await expect(rt.smoothed.predict(x, { index: 3, n: 1000, signal: c2.signal, onProgress: (p) => p.samples >= 200 && c2.abort() })).rejects.toSatisfy(isAbort);
      const after = await rt.smoothed.certify(x, { index: 3 });
      const reference = await fresh.smoothed.certify(x, { index: 3 });
      expect(after).toEqual(reference);
      expect(after.samples).toBe(2100);
      expect(await rt.smoothed.predict(x, { index: 3, n: 1000 })).toEqual(await fresh.smoothed.predict(x, { index: 3, n: 1000 }));
    } finally {
      await rt.dispose();
      await fresh.dispose();
    }
  });

  it('a signal already aborted rejects at once, before any sample is drawn, on every call', async () => {
    const rt = await createContainer(config({ type: 'cohen', alpha: 0.05, n0: 100, n: 1000 }));
    try {
      const classified = countClassified(rt);
      const signal = AbortSignal.abort();
      const x = rt.dataset!.get(0).image;
      for (const call of [
        () => rt.smoothed.certify(x, { signal }),
        () => rt.smoothed.predict(x, { signal }),
        () => rt.smoothed.votes(x, 500, { signal }),
        () => rt.smoothed.certifyAndPredict(x, { signal }),
        () => new PointwiseAttack().run(x, 7, predictDecider(rt.smoothed), { signal }),
      ]) {
        await expect(call()).rejects.toSatisfy(isAbort);
      }
      expect(classified.total).toBe(0);
      await expect(rt.smoothed.certify(x, { signal: 'stop' as unknown as AbortSignal })).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'signal' });
      // and the runtime still certifies
      expect((await rt.smoothed.certify(x)).samples).toBe(1100);
    } finally {
      await rt.dispose();
    }
  });

  it('an attack stops within one batch of an abort, also in the middle of a 100 000-sample query', async () => {
    const rt = await createContainer(config({ type: 'cohen', alpha: 0.001, n0: 100, n: 100_000 }));
    try {
      const controller = new AbortController();
      let atAbort = -1;
      const classified = countClassified(rt, (total) => {
        if (total >= 500 && atAbort < 0) {
          atAbort = total;
          controller.abort();
        }
      });
      const { image, label } = rt.dataset!.get(0);
      // query 0 (the clean image) is a PREDICT of 100 000 samples: the abort lands inside it
      await expect(new PointwiseAttack({ restarts: 1 }).run(image, label, predictDecider(rt.smoothed), { signal: controller.signal })).rejects.toSatisfy(isAbort);
      expect(classified.total).toBe(atAbort);
      // between queries: against the undefended decider, abort after the third query
      const c2 = new AbortController();
      const seen: number[] = [];
      const attack = new PointwiseAttack({ restarts: 1 }).run(image, label, baseClassifierDecider(rt.classifier, rt.encoder), {
        signal: c2.signal,
        onProgress: (p) => {
          seen.push(p.queries);
          if (p.queries === 3) c2.abort();
        },
      });
      await expect(attack).rejects.toSatisfy(isAbort);
      expect(seen.at(-1)).toBe(3);
    } finally {
      await rt.dispose();
    }
  });
});

describe('progress (onProgress)', () => {
  it('cohen: selection then estimation batches, samples done out of n0 + n', async () => {
    const rt = await createContainer(config({ type: 'cohen', alpha: 0.05, n0: 100, n: 1000 }, 250));
    try {
      const events: RunProgress[] = [];
      const cert = await rt.smoothed.certify(rt.dataset!.get(1).image, { index: 1, onProgress: (p) => events.push({ ...p }) });
      expect(events).toEqual([
        { stage: 'selection', samples: 100, planned: 1100 },
        { stage: 'estimation', samples: 350, planned: 1100 },
        { stage: 'estimation', samples: 600, planned: 1100 },
        { stage: 'estimation', samples: 850, planned: 1100 },
        { stage: 'estimation', samples: 1100, planned: 1100 },
      ]);
      expect(cert.samples).toBe(1100);
      const votes: RunProgress[] = [];
      await rt.smoothed.votes(rt.dataset!.get(1).image, 600, { onProgress: (p) => votes.push({ ...p }) });
      expect(votes.map((p) => [p.stage, p.samples, p.planned])).toEqual([
        ['votes', 250, 600],
        ['votes', 500, 600],
        ['votes', 600, 600],
      ]);
      const both: RunProgress[] = [];
      const r = await rt.smoothed.certifyAndPredict(rt.dataset!.get(1).image, { index: 1, predictN: 500, onProgress: (p) => both.push({ ...p }) });
      expect(r.certificate).toEqual(cert);
      expect(both.map((p) => [p.stage, p.samples, p.planned])).toEqual([
        ['selection', 100, 1600],
        ['estimation', 350, 1600],
        ['estimation', 600, 1600],
        ['estimation', 850, 1600],
        ['estimation', 1100, 1600],
        ['predict', 1350, 1600],
        ['predict', 1600, 1600],
      ]);
    } finally {
      await rt.dispose();
    }
  });

  it('sequential certifier: every check with its bounds; the last one is the certificate', async () => {
    const alpha = 0.05;
    const rt = await createContainer(config({ type: 'sequential', alpha, maxSamples: 20_000, n0: 200 }, 500));
    try {
      const events: RunProgress[] = [];
      const cert = await rt.smoothed.certify(rt.dataset!.get(0).image, { index: 0, onProgress: (p) => events.push({ ...p }) });
      // batch events carry the last check made; a check's own event is the first with its number
      const checks = events.filter((p, i) => p.check !== undefined && p.check !== events[i - 1]?.check);
      expect(checks.length).toBeGreaterThan(0);
      const [, J] = /stopped at check (\d+)\/(\d+)/.exec(cert.method)!.slice(1).map(Number) as [number, number];
      const last = checks.at(-1)!;
      const stoppedAt = Number(/stopped at check (\d+)/.exec(cert.method)![1]);
      expect(last.check).toBe(stoppedAt);
      expect(last.checks).toBe(J);
      // the schedule the certifier ran: checks at counts n_j of checkSchedule(maxSamples − selection, α)
      const schedule = checkSchedule(20_000 - cert.n0, alpha);
      expect(J).toBe(schedule.counts.length);
      expect(cert.n).toBe(schedule.counts[stoppedAt - 1]);
      // the last check's bounds are the certificate's: L = max over checks of CP-lower(nA_j, n_j, α_j)
      expect(last.pLower).toBe(cert.pLower);
      expect(last.radiusLower).toBe(cert.radius);
      expect(last.pLower).toBeGreaterThanOrEqual(clopperPearsonLower(cert.nA, cert.n, schedule.alphas[stoppedAt - 1]!));
      expect(last.samples).toBe(cert.samples);
      expect(last.planned).toBe(20_000);
      for (const p of checks) {
        expect(p.pUpper!).toBeGreaterThanOrEqual(p.pLower!);
        if (p.radiusLower !== null) expect(p.radiusUpper!).toBeGreaterThanOrEqual(p.radiusLower!);
      }
      // checks come in order, samples never go back, stages go selection → estimation
      expect(checks.map((p) => p.check)).toEqual(checks.map((_, i) => i + 1));
      for (let i = 1; i < events.length; i++) expect(events[i]!.samples).toBeGreaterThanOrEqual(events[i - 1]!.samples);
      const stages = events.map((p) => p.stage);
      expect(stages[0]).toBe('selection');
      expect(stages.lastIndexOf('selection')).toBeLessThan(stages.indexOf('estimation'));
      // sequential PREDICT reports its checks and p-values
      const predict: RunProgress[] = [];
      const p = await rt.smoothed.predict(rt.dataset!.get(0).image, { index: 0, n: 4000, sequential: true, onProgress: (e) => predict.push({ ...e }) });
      const pc = predict.filter((e, i) => e.check !== undefined && e.check !== predict[i - 1]?.check);
      expect(pc.map((e) => e.check)).toEqual(pc.map((_, i) => i + 1));
      expect(pc.at(-1)!.pValue).toBe(p.pValue);
      expect(pc.at(-1)!.checks).toBe(checkSchedule(4000, alpha).counts.length);
      expect(pc.at(-1)!.samples).toBe(p.n);
      expect(predict.every((e) => e.stage === 'predict' && e.planned === 4000)).toBe(true);
    } finally {
      await rt.dispose();
    }
  });
});

describe('dispose and await using', () => {
  it('dispose() during a run rejects that run with ABLATE_DISPOSED after its batch, then releases the model', async () => {
    const rt = await createContainer(config({ type: 'cohen', alpha: 0.001, n0: 100, n: 100_000 }));
    const classified = countClassified(rt);
    let disposed: Promise<void> | undefined;
    const x = rt.dataset!.get(0).image;
    const run = rt.smoothed.certify(x, { onProgress: (p) => void (p.samples >= 300 && (disposed ??= rt.dispose())) });
    const queued = rt.smoothed.predict(x);
    await expect(run).rejects.toMatchObject({ code: 'ABLATE_DISPOSED', name: 'DisposedError' });
    await expect(queued).rejects.toMatchObject({ code: 'ABLATE_DISPOSED' });
    await disposed;
    expect(classified.total).toBeLessThanOrEqual(400);
    await expect(rt.smoothed.certify(x)).rejects.toMatchObject({ code: 'ABLATE_DISPOSED' });
    await expect(rt.dispose()).resolves.toBeUndefined();
    // the ONNX session is released: the classifier itself refuses to run
    await expect(rt.classifier.classify(new Float32Array(2 * 784), 1, [2, 28, 28])).rejects.toMatchObject({ code: 'ABLATE_BACKEND' });
  });

  it('await using disposes the runtime and the onnx, tfjs and function classifiers at the end of the block', async () => {
    let runtime: AblateRuntime;
    {
      await using rt = await createContainer(config({ type: 'cohen', alpha: 0.05, n0: 10, n: 100 }));
      runtime = rt;
      expect((await rt.smoothed.certify(rt.dataset!.get(0).image)).samples).toBe(110);
    }
    await expect(runtime.smoothed.certify(runtime.dataset!.get(0).image)).rejects.toMatchObject({ code: 'ABLATE_DISPOSED' });
    await expect(runtime.classifier.classify(new Float32Array(2 * 784), 1, [2, 28, 28])).rejects.toMatchObject({ code: 'ABLATE_BACKEND' });

    let onnx: OnnxClassifier;
    {
      await using c = await OnnxClassifier.create({ model });
      onnx = c;
      expect((await c.classify(new Float32Array(2 * 784), 1, [2, 28, 28])).length).toBeGreaterThan(0);
    }
    await expect(onnx.classify(new Float32Array(2 * 784), 1, [2, 28, 28])).rejects.toMatchObject({ code: 'ABLATE_BACKEND' });

    const { TfjsClassifier } = await import('@ablate/backend-tfjs');
    let tfjs: Awaited<ReturnType<typeof TfjsClassifier.create>>;
    {
      await using c = await TfjsClassifier.create({ model: join(root, 'models/mnist-k45-multichannel-tfjs'), backends: ['cpu'] });
      tfjs = c;
      expect((await c.classify(new Float32Array(2 * 784), 1, [2, 28, 28])).length).toBeGreaterThan(0);
    }
    await expect(tfjs.classify(new Float32Array(2 * 784), 1, [2, 28, 28])).rejects.toMatchObject({ code: 'ABLATE_BACKEND' });

    let disposedFn = 0;
    const fn = new FunctionClassifier({ numClasses: 2, predict: () => 0 });
    fn.dispose = () => void disposedFn++;
    {
      await using _c = fn;
    }
    expect(disposedFn).toBe(1);
    // the key is the platform's Symbol.asyncDispose where it exists (Node ≥ 20)
    expect(asyncDispose).toBe(Symbol.asyncDispose);
    expect(typeof runtime[Symbol.asyncDispose]).toBe('function');
  });
});
