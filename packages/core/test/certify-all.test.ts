import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
// The built packages, as an app uses them (the CLI under test is packages/cli/dist/bin.js, built from the same sources).
import { AblateError, createContainer, definePlugin, FunctionClassifier, predictSampleCount, type AblateConfig, type Dataset, type DatasetRunProgress } from '@ablate/core';
import '@ablate/backend-onnx';
import '@ablate/datasets';
import { predictSampleCount as cliPredictSampleCount } from '../../cli/src/predict-samples.js';

const root = resolve(__dirname, '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const dir = mkdtempSync(join(tmpdir(), 'ablate-certify-all-'));

const base: AblateConfig = {
  dataset: { type: 'mnist', split: 'test' },
  perturbation: { type: 'ablation', retain: 45 },
  encoder: { type: 'multichannel' },
  classifier: { type: 'onnx', model: join(root, 'models/mnist-k45-multichannel.onnx'), executionProviders: ['cpu'], batchSize: 250 },
  certifier: { type: 'cohen', alpha: 0.05, n0: 100, n: 500 },
  seed: 3,
};

function writeConfig(name: string, config: AblateConfig): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

function cliRows(args: string[]): Record<string, unknown>[] {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}.jsonl`);
  const r = spawnSync(process.execPath, [bin, ...args, '--out', out], { cwd: root, encoding: 'utf8' });
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.status).toBe(0);
  return readFileSync(out, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const row of rows) all.push(row);
  return all;
}

const withoutSeconds = (rows: object[]) => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'seconds')));

describe('rt.certifyAll / rt.predictAll: the CLI rows, from the library', () => {
  it('certifyAll yields the rows `ablate certify` writes (same keys in the same order, same values but seconds)', async () => {
    const file = writeConfig('plain', base);
    const cli = cliRows(['certify', '--config', file, '--start', '2', '--count', '3']);
    await using rt = await createContainer(base);
    const lib = await collect(rt.certifyAll({ start: 2, count: 3 }));
    expect(lib.map((r) => Object.keys(r))).toEqual(cli.map((r) => Object.keys(r)));
    expect(Object.keys(lib[0]!)).toEqual(['index', 'label', 'prediction', 'radius', 'correct', 'pLower', 'nA', 'n', 'samples', 'seconds']);
    expect(withoutSeconds(lib)).toEqual(withoutSeconds(cli));
    expect(lib.map((r) => r.index)).toEqual([2, 3, 4]);
    // the rows are the engine's certificates of each index's own stream
    const c = await rt.smoothed.certify(rt.dataset!.get(3).image, { index: 3 });
    expect(lib[1]).toMatchObject({ prediction: c.prediction, radius: c.radius, pLower: c.pLower, nA: c.nA, n: 500, samples: 600, label: rt.dataset!.get(3).label });
  });

  it('with PREDICT (the config\'s `predict` key, or the option): the rows of `ablate certify` with that config', async () => {
    const config: AblateConfig = { ...base, predict: { n: 300 } };
    const cli = cliRows(['certify', '--config', writeConfig('with-predict', config), '--count', '2']);
    await using rt = await createContainer(config);
    const lib = await collect(rt.certifyAll({ count: 2 }));
    expect(withoutSeconds(lib)).toEqual(withoutSeconds(cli));
    expect(Object.keys(lib[0]!)).toEqual(['index', 'label', 'prediction', 'radius', 'correct', 'pLower', 'nA', 'n', 'samples', 'predict', 'seconds']);
    expect(lib[0]!.predict!.n).toBe(300);
    // the same PREDICT through the option on a runtime whose config has no `predict` key
    await using plain = await createContainer(base);
    expect(withoutSeconds(await collect(plain.certifyAll({ count: 2, predict: { n: 300 } })))).toEqual(withoutSeconds(cli));
    expect((await collect(rt.certifyAll({ count: 1, predict: false })))[0]).not.toHaveProperty('predict');
  });

  it('predictAll yields the rows of `ablate predict`, sequential included', async () => {
    const config: AblateConfig = { ...base, predict: { n: 400, sequential: true } };
    const cli = cliRows(['predict', '--config', writeConfig('seq-predict', config), '--start', '5', '--count', '2']);
    await using rt = await createContainer(config);
    const lib = await collect(rt.predictAll({ start: 5, count: 2 }));
    expect(withoutSeconds(lib)).toEqual(withoutSeconds(cli));
    expect(Object.keys(lib[0]!)).toEqual(['index', 'label', 'prediction', 'correct', 'pValue', 'nA', 'nB', 'n', 'samples', 'seconds']);
    expect(lib.every((r) => r.n <= 400)).toBe(true);
  });

  it('resumes: done indices are skipped, the other rows are those of an uninterrupted run', async () => {
    await using rt = await createContainer(base);
    const whole = await collect(rt.certifyAll({ start: 0, count: 4 }));
    const rest = await collect(rt.certifyAll({ start: 0, count: 4, done: [1, 3, 99] }));
    expect(rest.map((r) => r.index)).toEqual([0, 2]);
    expect(withoutSeconds(rest)).toEqual(withoutSeconds([whole[0]!, whole[2]!]));
    expect(await collect(rt.certifyAll({ start: 0, count: 2, done: new Set([0, 1]) }))).toEqual([]);
  });

  it('progress names the image and the range; an abort ends the iteration with a coded AbortError', async () => {
    await using rt = await createContainer(base);
    const controller = new AbortController();
    const events: DatasetRunProgress[] = [];
    const seen: number[] = [];
    const run = async () => {
      for await (const row of rt.certifyAll({ start: 10, count: 5, done: [11], signal: controller.signal, onProgress: (p) => {
        events.push(structuredClone(p));
        if (p.index === 13 && p.image.samples >= 350) controller.abort();
      } })) seen.push(row.index);
    };
    await expect(run()).rejects.toSatisfy((e) => e instanceof AblateError && e.name === 'AbortError' && (e as AblateError).code === 'ABORTED');
    expect(seen).toEqual([10, 12]);
    // per image: selection (100), then estimation batches of 250; done counts the skipped index
    expect(events.filter((e) => e.index === 10).map((e) => [e.done, e.total, e.image.stage, e.image.samples, e.image.planned])).toEqual([
      [1, 5, 'selection', 100, 600],
      [1, 5, 'estimation', 350, 600],
      [1, 5, 'estimation', 600, 600],
    ]);
    expect(events.filter((e) => e.index === 12).every((e) => e.done === 2)).toBe(true);
    expect(events.at(-1)).toMatchObject({ index: 13, done: 3, image: { samples: 350 } });
    // the runtime goes on: the aborted image's row is what a fresh run gives
    const again = await collect(rt.certifyAll({ start: 13, count: 1 }));
    await using fresh = await createContainer(base);
    expect(withoutSeconds(again)).toEqual(withoutSeconds(await collect(fresh.certifyAll({ start: 13, count: 1 }))));
  });

  it('reads images with the dataset\'s getAsync when it has one', async () => {
    const images = Array.from({ length: 6 }, (_, i) => ({ image: { data: Float32Array.from({ length: 16 }, (_, j) => ((i + j) % 4) / 4), shape: [1, 4, 4] as const }, label: i % 2 }));
    let asyncReads = 0;
    const dataset = (withAsync: boolean): Dataset => ({
      name: 'tiny',
      size: images.length,
      shape: [1, 4, 4],
      numClasses: 2,
      get: (i) => {
        if (withAsync) throw new Error('the synchronous get must not be used when getAsync exists');
        return images[i]!;
      },
      ...(withAsync ? { getAsync: async (i: number) => (asyncReads++, images[i]!) } : {}),
    });
    const plugins = (withAsync: boolean) => [
      definePlugin<'dataset', Record<string, never>>({ kind: 'dataset', type: 'tiny', description: 'six 4×4 images', schema: { properties: {} }, create: () => dataset(withAsync) }),
      definePlugin<'classifier', Record<string, never>>({
        kind: 'classifier',
        type: 'bright',
        description: 'class 1 when the kept pixels sum above 1',
        schema: { properties: {} },
        create: () => new FunctionClassifier({ numClasses: 2, predict: (row) => (row.reduce((a, b) => a + b, 0) > 1 ? 1 : 0) }),
      }),
    ];
    const config = { dataset: { type: 'tiny' }, perturbation: { type: 'ablation', retain: 8 }, encoder: { type: 'identity' }, classifier: { type: 'bright' }, certifier: { type: 'cohen', alpha: 0.05, n0: 20, n: 300 } } as unknown as AblateConfig;
    await using withGetAsync = await createContainer(config, { plugins: plugins(true) });
    await using syncOnly = await createContainer(config, { plugins: plugins(false) });
    const a = await collect(withGetAsync.certifyAll({ start: 1, count: 4 }));
    expect(asyncReads).toBe(4);
    expect(withoutSeconds(a)).toEqual(withoutSeconds(await collect(syncOnly.certifyAll({ start: 1, count: 4 }))));
    expect(a.map((r) => r.label)).toEqual([1, 0, 1, 0]);
  });

  it('argument errors are typed and reject at the first next()', async () => {
    const { dataset: _d, ...noDataset } = base;
    await using bare = await createContainer(noDataset);
    const rows = bare.certifyAll();
    await expect(rows.next()).rejects.toMatchObject({ code: 'ABLATE_CONFIG', field: '/dataset' });
    await using rt = await createContainer(base);
    await expect(rt.certifyAll({ start: 10_000 }).next()).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'start', message: expect.stringMatching(/past the end of mnist\/test \(10000 images\)/) });
    await expect(rt.certifyAll({ start: -1 }).next()).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'start' });
    await expect(rt.certifyAll({ count: '3' as unknown as number }).next()).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'count' });
    await expect(rt.certifyAll({ done: 3 as unknown as number[] }).next()).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'done' });
    // hostile pass: non-integer entries were counted as done (progress said 3 of 2) yet never skipped
    await expect(rt.certifyAll({ count: 2, done: ['1', 1] as unknown as number[] }).next()).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'done', message: expect.stringContaining('must hold integer indices, got "1" (a string)') });
    await expect(rt.predictAll({ count: 2, done: [0.5] }).next()).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'done', message: expect.stringContaining('got 0.5') });
    await expect(rt.certifyAll({ count: 2, done: [NaN] }).next()).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'done' });
    // hostile pass: an object that is not an AbortSignal (aborted: 'no', truthy) ended the run as "aborted"
    await expect(rt.certifyAll({ count: 1, signal: { aborted: 'no' } as unknown as AbortSignal }).next()).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'signal' });
    await expect(rt.predictAll({ count: 1, signal: null as unknown as AbortSignal }).next()).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'signal' });
    await expect(rt.certifyAll({ onProgress: 'yes' as unknown as () => void }).next()).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'onProgress' });
    await expect(rt.predictAll({ n: 0 }).next()).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'predict.n' });
    await using exact = await createContainer({ ...base, perturbation: { type: 'partition', parts: 39 }, certifier: { type: 'vote-gap' }, classifier: { ...base.classifier, model: join(root, 'models/mnist-partition39-multichannel.onnx') } } as AblateConfig);
    await expect(exact.predictAll().next()).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'predict' });
  });

  it("core's predictSampleCount (the library's default PREDICT n) agrees with the CLI's copy (which must not load core)", () => {
    const configs = [
      {},
      { certifier: { type: 'cohen', n: 1000 } },
      { certifier: { type: 'sequential', maxSamples: 600, n: 7 } },
      { certifier: { type: 'cohen', n: 1000 }, predict: { n: 5 } },
      { certifier: { type: 'cohen', n: 0 } },
      { certifier: { type: 'x' }, predict: null },
      { certifier: { type: 'cohen', n: 2.5 }, predict: { n: 'many' } },
    ];
    expect(configs.map((c) => predictSampleCount(c))).toEqual([undefined, 1000, 600, 5, undefined, undefined, undefined]);
    expect(configs.map((c) => cliPredictSampleCount(c))).toEqual(configs.map((c) => predictSampleCount(c)));
  });
});
