import { describe, expect, it } from 'vitest';
import {
  AblateError,
  AblationPerturbation,
  ArgumentError,
  CohenCertifier,
  ConfigError,
  FunctionClassifier,
  InputError,
  ModelError,
  MultichannelEncoder,
  SmoothedClassifier,
  createContainer,
  definePlugin,
  maxCertifiedRadius,
  ablationBound,
  validateConfig,
  registry,
  type Dataset,
} from '../src/index.js';

const classifierPlugin = definePlugin<'classifier', { classes?: number }>({
  kind: 'classifier',
  type: 'fixed',
  description: 'always class 0',
  schema: { properties: { classes: { type: 'integer', minimum: 2 } } },
  create: (o) => new FunctionClassifier({ numClasses: o.classes ?? 10, inputShape: [2, 28, 28], predict: () => 0 }),
});

const datasetPlugin = definePlugin<'dataset', Record<string, never>>({
  kind: 'dataset',
  type: 'tiny',
  description: '28×28 zeros',
  schema: { properties: {} },
  create: (): Dataset => ({ name: 'tiny', size: 1, shape: [1, 28, 28], numClasses: 10, get: () => ({ image: { data: new Float32Array(784), shape: [1, 28, 28] }, label: 0 }) }),
});

const good = (): any => ({
  perturbation: { type: 'ablation', retain: 45 },
  encoder: { type: 'multichannel' },
  classifier: { type: 'fixed' },
  certifier: { type: 'cohen', alpha: 0.05, n0: 100, n: 1000 },
  seed: 0,
});

type Mutate = (c: any) => void;
/** [description, mutation, expected JSON path of the first issue] */
const badConfigs: [string, Mutate, string][] = [
  ['k = 0', (c) => (c.perturbation.retain = 0), '/perturbation/retain'],
  ['k not an integer', (c) => (c.perturbation.retain = 4.5), '/perturbation/retain'],
  ['k as a string', (c) => (c.perturbation.retain = '45'), '/perturbation/retain'],
  ['k missing', (c) => delete c.perturbation.retain, '/perturbation/retain'],
  ['α = 0', (c) => (c.certifier.alpha = 0), '/certifier/alpha'],
  ['α = 1', (c) => (c.certifier.alpha = 1), '/certifier/alpha'],
  ['α = 1.5', (c) => (c.certifier.alpha = 1.5), '/certifier/alpha'],
  ['α = NaN', (c) => (c.certifier.alpha = Number.NaN), '/certifier/alpha'],
  ['n0 = 0', (c) => (c.certifier.n0 = 0), '/certifier/n0'],
  ['n negative', (c) => (c.certifier.n = -5), '/certifier/n'],
  ['unknown perturbation type', (c) => (c.perturbation.type = 'ablate'), '/perturbation/type'],
  ['unknown certifier type', (c) => (c.certifier.type = 'cohen2'), '/certifier/type'],
  ['unknown option', (c) => (c.perturbation.keep = 3), '/perturbation/keep'],
  ['missing certifier', (c) => delete c.certifier, '/certifier'],
  ['slot is not an object', (c) => (c.encoder = 'multichannel'), '/encoder'],
  ['seed not an integer', (c) => (c.seed = 1.5), '/seed'],
  ['batchSize 0', (c) => (c.batchSize = 0), '/batchSize'],
  ['lee-noise κ = 1', (c) => (c.perturbation = { type: 'lee-noise', keepProb: 1 }), '/perturbation/keepProb'],
  ['lee-noise K = 1', (c) => (c.perturbation = { type: 'lee-noise', keepProb: 0.1, levels: 1 }), '/perturbation/levels'],
  ['gaussian σ < 0', (c) => (c.perturbation = { type: 'gaussian', sigma: -1 }), '/perturbation/sigma'],
  ['normalize std = 0', (c) => (c.encoder.normalize = { mean: [0.5], std: [0] }), '/encoder/normalize/std/0'],
  ['unknown top-level key', (c) => (c.sede = 3), '/sede'],
  ['dataset slot with nothing registered', (c) => (c.dataset = { type: 'mnist' }), '/dataset/type'],
];

describe('bad configs give a ConfigError naming the field', () => {
  it.each(badConfigs)('%s', async (_name, mutate, path) => {
    const config = good();
    mutate(config);
    const err = await createContainer(config, { plugins: [classifierPlugin] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    const issues = (err as ConfigError).issues;
    expect(issues.map((i) => i.path)).toContain(path);
    expect((err as ConfigError).message).toContain(path);
  });

  it('an unknown type lists what is allowed', () => {
    const c = good();
    c.perturbation.type = 'ablate';
    try {
      validateConfig(c, registry);
      expect.unreachable();
    } catch (e) {
      const issue = (e as ConfigError).issues.find((i) => i.path === '/perturbation/type')!;
      expect(issue.allowed).toEqual(['ablation', 'band', 'gaussian', 'lee-noise', 'partition']);
    }
  });

  const addHint = "third-party types are added with --plugin <module> (ablate CLI) or, in code, by importing the module that registers them or passing them in createContainer's { plugins }";
  it('an unknown type lists every built-in type of its slot, lazily loaded packages included, and how to add others', () => {
    const issueOf = (mutate: Mutate, reg = registry.clone().register(classifierPlugin)) => {
      const c = good();
      mutate(c);
      try {
        validateConfig(c, reg);
      } catch (e) {
        return (e as ConfigError).issues[0]!;
      }
      throw new Error('no error');
    };
    expect(issueOf((c) => (c.certifier = { type: 'foo' }))).toEqual({
      path: '/certifier/type',
      message: `unknown certifier type "foo": the built-in certifier types are "cohen", "lecuyer", "sequential", "vote-gap"; ${addHint}`,
      allowed: ['cohen', 'lecuyer', 'sequential', 'vote-gap'],
    });
    // the backends' types although no backend is loaded here; the registered plug-in "fixed" is named too
    expect(issueOf((c) => (c.classifier = { type: 'foo' }))).toEqual({
      path: '/classifier/type',
      message: `unknown classifier type "foo": the built-in classifier types are "onnx", "onnx-web", "tfjs" (also registered: "fixed"); ${addHint}`,
      allowed: ['onnx', 'onnx-web', 'tfjs', 'fixed'],
    });
    // a slot with nothing registered (the datasets package not loaded)
    expect(issueOf((c) => (c.dataset = { type: 'foo' })).message).toBe(
      `unknown dataset type "foo": the built-in dataset types are "cifar10", "fashion-mnist", "image-folder", "mnist"; ${addHint}`,
    );
    expect(issueOf((c) => (c.attack = { type: 'foo' })).message).toBe(`unknown attack type "foo": the built-in attack types are "pointwise"; ${addHint}`);
  });

  it('every wrong field is reported at once', () => {
    const c: any = good();
    c.certifier.alpha = 2;
    c.certifier.n0 = 0;
    c.perturbation.retain = -1;
    const err = (() => {
      try {
        validateConfig(c, registry.clone().register(classifierPlugin));
      } catch (e) {
        return e as ConfigError;
      }
    })()!;
    expect(err.issues.map((i) => i.path).sort()).toEqual(['/certifier/alpha', '/certifier/n0', '/perturbation/retain']);
  });

  it('not an object at all', () => {
    for (const c of [null, [], 'x', 3]) expect(() => validateConfig(c, registry)).toThrow(ConfigError);
  });

  it('k > d is caught at start-up against the dataset shape', async () => {
    const c: any = { ...good(), dataset: { type: 'tiny' } };
    c.perturbation.retain = 785;
    await expect(createContainer(c, { plugins: [classifierPlugin, datasetPlugin] })).rejects.toMatchObject({ issues: [{ path: '/perturbation/retain' }] });
  });

  it('mean encoder without a fill value or dataset mean', async () => {
    const c: any = good();
    c.encoder = { type: 'mean' };
    await expect(createContainer(c, { plugins: [classifierPlugin] })).rejects.toMatchObject({ issues: [{ path: '/encoder/fill' }] });
  });

  it('a model that does not take the encoded shape fails at start-up', async () => {
    const c: any = { ...good(), dataset: { type: 'tiny' }, encoder: { type: 'mean', fill: 0.1 } };
    const err = await createContainer(c, { plugins: [classifierPlugin, datasetPlugin] }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err.message).toMatch(/\[2, 28, 28\].*\[1, 28, 28\]/);
  });
});

describe('bad arguments give typed errors naming the argument', () => {
  const smoothed = () =>
    new SmoothedClassifier(new AblationPerturbation({ retain: 45 }), new MultichannelEncoder(), new FunctionClassifier({ numClasses: 2, predict: () => 0 }), new CohenCertifier({ alpha: 0.05, n0: 10, n: 100 }));

  const cases: [string, () => unknown, abstract new (...args: any[]) => AblateError, string][] = [
    ['k > d at certify time', () => smoothed().certify({ data: new Float32Array(16), shape: [1, 4, 4] }), ArgumentError, 'retain'],
    ['NaN in an input', () => smoothed().certify({ data: new Float32Array(784).fill(Number.NaN), shape: [1, 28, 28] }), InputError, 'x.data[0]'],
    ['Infinity in an input', () => smoothed().certify({ data: new Float32Array(784).fill(Infinity), shape: [1, 28, 28] }), InputError, 'x.data[0]'],
    ['wrong input length', () => smoothed().certify({ data: new Float32Array(100), shape: [1, 28, 28] }), InputError, 'x.data'],
    ['bad shape', () => smoothed().certify({ data: new Float32Array(784), shape: [28, 28] as any }), InputError, 'x.shape'],
    ['negative index', () => smoothed().certify({ data: new Float32Array(784), shape: [1, 28, 28] }, { index: -1 }), ArgumentError, 'index'],
    ['retain = 0', () => new AblationPerturbation({ retain: 0 }), ArgumentError, 'retain'],
    ['α out of (0,1)', () => new CohenCertifier({ alpha: 1, n0: 1, n: 1 }), ArgumentError, 'alpha'],
    ['n0 < 1', () => new CohenCertifier({ alpha: 0.05, n0: 0, n: 1 }), ArgumentError, 'n0'],
    ['pLower > 1', () => maxCertifiedRadius({ bound: ablationBound(784, 45), pLower: 1.2 }), ArgumentError, 'pLower'],
    ['pLower + pUpper > 1', () => maxCertifiedRadius({ bound: ablationBound(784, 45), pLower: 0.8, pUpper: 0.3 }), ArgumentError, 'pUpper'],
    ['bound with k > d', () => ablationBound(10, 11), ArgumentError, 'retain'],
    ['classifier with one class', () => new FunctionClassifier({ numClasses: 1, predict: () => 0 }), ArgumentError, 'numClasses'],
  ];
  it.each(cases)('%s', async (_name, run, type, field) => {
    const err = await Promise.resolve()
      .then(run)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(type);
    expect((err as AblateError).field).toBe(field);
    expect((err as AblateError).message).toContain(field);
  });

  it('a classifier returning an out-of-range class is a ModelError, not silent corruption', async () => {
    const s = new SmoothedClassifier(new AblationPerturbation({ retain: 5 }), new MultichannelEncoder(), new FunctionClassifier({ numClasses: 2, predict: () => 5 }), new CohenCertifier({ alpha: 0.05, n0: 10, n: 100 }));
    await expect(s.certify({ data: new Float32Array(784), shape: [1, 28, 28] })).rejects.toBeInstanceOf(ModelError);
  });
});
