import { describe, expect, it } from 'vitest';
import {
  AblationPerturbation,
  ArgumentError,
  CohenCertifier,
  ConfigError,
  FunctionClassifier,
  MAX_BATCH_SIZE,
  MAX_QUOTE_CHARS,
  MAX_SAMPLES,
  ModelError,
  MultichannelEncoder,
  SmoothedClassifier,
  argmaxRows,
  createContainer,
  definePlugin,
  quote,
  registry,
  validateConfig,
  type BaseClassifier,
  type Dataset,
} from '../src/index.js';

const argmax = (rows: number[][]) => [...argmaxRows(rows.flat(), rows.length, rows[0]!.length, new Int32Array(rows.length), 'm.onnx')];

describe('argmax of logits: a row needs a well-defined maximum', () => {
  it('finite maxima, −Infinity entries and a single +Infinity are valid; ties go to the lowest index', () => {
    expect(argmax([[0.1, 0.7, 0.2], [3, 3, 1], [-Infinity, -5, -Infinity], [1, Infinity, 2], [Infinity, -Infinity, -Infinity]])).toEqual([1, 0, 1, 1, 0]);
  });

  it.each([
    ['a NaN anywhere in the row (even not at the maximum)', [1, 5, NaN]],
    ['a NaN first', [NaN, 5, 1]],
    ['all NaN', [NaN, NaN, NaN]],
    ['all −Infinity', [-Infinity, -Infinity, -Infinity]],
    ['+Infinity twice (a tie of overflows)', [Infinity, 0, Infinity]],
  ])('%s is a ModelError naming the model and the broken row count', (_name, bad) => {
    const rows = [[0, 1, 2], bad as number[], [2, 1, 0], bad as number[]];
    expect(() => argmax(rows)).toThrow(ModelError);
    expect(() => argmax(rows)).toThrow(/m\.onnx returned logits without a valid argmax in 2 of 4 rows of a batch \(first: row 1 = \[/);
  });
});

const image = { data: new Float32Array(784).fill(0.5), shape: [1, 28, 28] as const };
const cohen = new CohenCertifier({ alpha: 0.05, n0: 10, n: 100 });

/** A classifier that returns `short` fewer predictions than asked for. */
const dropping = (short: number): BaseClassifier => ({
  type: 'dropping',
  numClasses: 3,
  checkInputShape: () => {},
  classify: async (_input, count) => new Int32Array(count - short),
  dispose: () => {},
});

describe('the engine checks what the base classifier returns', () => {
  it('fewer predictions than inputs is a ModelError (the missing rows must not vote for class 0)', async () => {
    const s = new SmoothedClassifier(new AblationPerturbation({ retain: 5 }), new MultichannelEncoder(), dropping(1), cohen, { batchSize: 16 });
    // the selection stage (n0 = 10 samples) is the first batch
    await expect(s.certify(image)).rejects.toThrow(/classify: returned 9 predictions for a batch of 10 inputs/);
    await expect(s.votes(image, 5)).rejects.toBeInstanceOf(ModelError);
  });

  it('a non-integer class is a ModelError', async () => {
    const fractional: BaseClassifier = { type: 'fractional', numClasses: 3, checkInputShape: () => {}, classify: async (_i, count) => new Float64Array(count).fill(1.5), dispose: () => {} };
    const s = new SmoothedClassifier(new AblationPerturbation({ retain: 5 }), new MultichannelEncoder(), fractional, cohen);
    await expect(s.votes(image, 5)).rejects.toThrow(/returned class 1\.5, not an integer in \[0, 3\)/);
  });
});

describe('resource bounds', () => {
  it('batch buffers are sized by min(batchSize, samples needed): batchSize 1e6 with n = 100 allocates ~100 samples', async () => {
    const s = new SmoothedClassifier(new AblationPerturbation({ retain: 45 }), new MultichannelEncoder(), new FunctionClassifier({ numClasses: 3, predict: () => 1 }), cohen, { batchSize: 1_000_000 });
    const before = process.memoryUsage().arrayBuffers;
    const votes = await s.votes(image, 100);
    expect([...votes]).toEqual([0, 100, 0]);
    // 1e6 samples would be 2 · 1e6 · (784·4 + 784 + 1568·4) bytes ≈ 20 GB; 100 samples are ~2 MB
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(50 * 1024 ** 2);
  });

  it('a batch whose buffers exceed the byte limit is an ArgumentError naming batchSize, with the size that fits', async () => {
    const big = { data: new Float32Array(3 * 224 * 224).fill(0.5), shape: [3, 224, 224] as const };
    const s = new SmoothedClassifier(new AblationPerturbation({ retain: 45 }), new MultichannelEncoder(), new FunctionClassifier({ numClasses: 3, predict: () => 1 }), new CohenCertifier({ alpha: 0.05, n0: 10, n: 100_000 }), { batchSize: 100_000 });
    const err = await s.votes(big, 100_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as ArgumentError).field).toBe('batchSize');
    // 4 GiB / (2 slots · (4·3·224² + 224² + 4·6·224²) bytes per sample) = 1156.7
    expect((err as Error).message).toMatch(/batches of 100000 samples of \[3, 224, 224\] \(encoded \[6, 224, 224\]\) need \d+\.\d GiB of buffers, more than the 4\.0 GiB limit \(use a batchSize of at most 1156\)/);
  });

  it('the same limit is checked by createContainer when a dataset fixes the shape, before any image is computed', async () => {
    const dataset = definePlugin<'dataset', Record<string, never>>({
      kind: 'dataset',
      type: 'imagenet-like',
      description: 'one 3×224×224 image',
      schema: {},
      create: (): Dataset => ({ name: 'x', size: 1, shape: [3, 224, 224], numClasses: 3, get: () => ({ image: { data: new Float32Array(3 * 224 * 224), shape: [3, 224, 224] }, label: 0 }) }),
    });
    const err = await createContainer(
      { dataset: { type: 'imagenet-like' }, perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, classifier: { type: 'fixed' }, certifier: { type: 'cohen', alpha: 0.05, n0: 100, n: 10_000 }, batchSize: 10_000 },
      { plugins: [dataset, fixedPlugin] },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues[0]).toMatchObject({ path: '/batchSize' });
    expect((err as Error).message).toMatch(/use a batchSize of at most 1156/);
  });

  it('sample counts above MAX_SAMPLES are refused in the schema and in code (Uint32 vote counts can never wrap)', () => {
    const err = catchConfig({ certifier: { type: 'cohen', alpha: 0.05, n0: 100, n: 1e12 } });
    expect(err.issues).toEqual([{ path: '/certifier/n', message: `must be ≤ ${MAX_SAMPLES}, got 1000000000000` }]);
    expect(catchConfig({ certifier: { type: 'cohen', alpha: 0.05, n0: 2 ** 32, n: 100 } }).issues[0]!.path).toBe('/certifier/n0');
    expect(() => new CohenCertifier({ alpha: 0.05, n0: 10, n: 2 ** 32 })).toThrow(/n: must be in \[1, 1000000000\], got 4294967296/);
    expect(MAX_SAMPLES).toBeLessThan(2 ** 32);
  });

  it('batchSize above MAX_BATCH_SIZE is refused with the bound that was violated', () => {
    const err = catchConfig({ batchSize: 99999999999999999999 });
    expect(err.issues).toEqual([{ path: '/batchSize', message: `must be ≤ ${MAX_BATCH_SIZE}, got 100000000000000000000` }]);
    expect(() => new SmoothedClassifier(new AblationPerturbation({ retain: 5 }), new MultichannelEncoder(), new FunctionClassifier({ numClasses: 3, predict: () => 1 }), cohen, { batchSize: 1e20 })).toThrow(
      /batchSize: must be in \[1, 1048576\], got 100000000000000000000/,
    );
  });

  it('α below the floor is refused by the schema, naming alpha', () => {
    expect(catchConfig({ certifier: { type: 'cohen', alpha: 1e-295, n0: 100, n: 1000 } }).issues).toEqual([{ path: '/certifier/alpha', message: 'must be ≥ 1e-100, got 1e-295' }]);
  });
});

describe('messages never echo a large value', () => {
  it('quote caps strings and JSON, and gives binary as its byte count', () => {
    expect(quote('x'.repeat(5000))).toBe(`"${'x'.repeat(MAX_QUOTE_CHARS - 1)}… (5000 characters)`);
    expect(quote(new Uint8Array(1234))).toBe('a Uint8Array (1234 bytes)');
    expect(quote(Buffer.alloc(7))).toBe('a Buffer (7 bytes)');
    expect(quote(Array.from({ length: 1000 }, (_, i) => i)).length).toBeLessThan(MAX_QUOTE_CHARS + 30);
    expect(quote(99999999999999999999)).toBe('100000000000000000000');
  });

  it('a 50 MB Uint8Array where a string is expected: a short ConfigError, at once', () => {
    const t = Date.now();
    const err = catchConfig({ classifier: { type: 'fixed', name: new Uint8Array(50 * 1024 ** 2) } });
    expect(Date.now() - t).toBeLessThan(5000);
    expect(err.issues).toEqual([{ path: '/classifier/name', message: `must be string, got a Uint8Array (${50 * 1024 ** 2} bytes)` }]);
    expect(err.message.length).toBeLessThan(300);
  });

  it('`binary: true` in a plug-in schema accepts a Uint8Array (and a Buffer) without copying it', () => {
    const bytes = new Uint8Array(1024).fill(7);
    const valid = validateConfig<{ classifier: { model: Uint8Array } }>(base({ classifier: { type: 'fixed', model: bytes } }), registry.clone().register(fixedPlugin));
    expect(valid.classifier.model).toBe(bytes);
    const buffer = Buffer.from('onnx');
    expect(validateConfig<{ classifier: { model: Uint8Array } }>(base({ classifier: { type: 'fixed', model: buffer } }), registry.clone().register(fixedPlugin)).classifier.model).toBe(buffer);
    const err = catchConfig({ classifier: { type: 'fixed', model: 42 } });
    expect(err.issues).toEqual([{ path: '/classifier/model', message: 'must be a string or bytes (Uint8Array), got 42' }]);
  });
});

const fixedPlugin = definePlugin<'classifier', { name?: string; model?: string | Uint8Array }>({
  kind: 'classifier',
  type: 'fixed',
  description: 'always class 1',
  schema: { properties: { name: { type: 'string' }, model: { anyOf: [{ type: 'string', minLength: 1 }, { binary: true }] } } },
  create: () => new FunctionClassifier({ numClasses: 3, predict: () => 1 }),
});

function base(over: Record<string, unknown>) {
  return { perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, classifier: { type: 'fixed' }, certifier: { type: 'cohen', alpha: 0.05, n0: 100, n: 1000 }, ...over };
}

function catchConfig(over: Record<string, unknown>): ConfigError {
  try {
    validateConfig(base(over), registry.clone().register(fixedPlugin));
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}
