import { describe, expect, it } from 'vitest';
import {
  AblateError,
  ablationBound,
  createContainer,
  definePlugin,
  FunctionClassifier,
  PluginError,
  PluginRegistry,
  registry,
  Type,
  withDefault,
  type Perturbation,
  type PerturbedBatch,
  type AblateConfig,
  type PluginConfigEntry,
  type RobustnessBound,
  type Shape,
  type ThreatModel,
  validateConfig,
} from '../src/index.js';

// Issue 21 item 7: a plug-in declared once (TypeBox), its schema compiled at register(), its failures named.

/** Keeps the first `keep` locations; `fail` makes create() or sample() throw a plain Error. */
class FirstLocations implements Perturbation {
  readonly type = 'first-locations';
  readonly threatModel: ThreatModel = 'l1'; // open: a threat model of the plug-in's own
  readonly usesNull = true;
  constructor(readonly options: { keep: number; levels: number; fail: string }) {}
  validate(): void {}
  sample(x: Float32Array, shape: Shape, _rng: unknown, out: PerturbedBatch, count: number): void {
    if (this.options.fail === 'sample') throw new TypeError('boom in sample');
    const d = shape[1] * shape[2];
    for (let s = 0; s < count; s++) for (let p = 0; p < d; p++) {
      out.kept[s * d + p] = p < this.options.keep ? 1 : 0;
      out.values[s * d + p] = p < this.options.keep ? x[p]! : 0;
    }
  }
  bound(shape: Shape): RobustnessBound {
    return ablationBound(shape[1] * shape[2], this.options.keep);
  }
  describe(): string {
    return 'first-locations';
  }
}

const firstLocations = definePlugin({
  kind: 'perturbation',
  type: 'first-locations',
  description: 'keep the first locations',
  options: Type.Object({
    keep: Type.Integer({ minimum: 1 }),
    levels: withDefault(Type.Integer({ minimum: 2 }), 256),
    fail: withDefault(Type.Union([Type.Literal('no'), Type.Literal('create'), Type.Literal('sample')]), 'no'),
  }),
  create: (o) => {
    // the options type comes from the schema: `levels` (a default) is present, typed number
    const levels: number = o.levels;
    if (o.fail === 'create') throw new RangeError(`cannot keep ${o.keep} of ${levels}`);
    return new FirstLocations(o);
  },
});

declare module '../src/index.js' {
  interface PerturbationOptionsMap extends PluginConfigEntry<typeof firstLocations> {}
}

const classifier = definePlugin({
  kind: 'classifier',
  type: 'constant-one',
  description: 'always class 1',
  options: Type.Object({}),
  create: () => new FunctionClassifier({ numClasses: 2, inputShape: [1, 4, 4], predict: () => 1 }),
});

const config = (perturbation: Record<string, unknown>) => ({
  perturbation: perturbation as { type: 'first-locations'; keep: number },
  encoder: { type: 'identity' as const },
  classifier: { type: 'constant-one' },
  certifier: { type: 'cohen' as const, n0: 10, n: 100 },
});

/** Whether the runtime accepts `perturbation` in a config (registry with the plug-ins). */
const validate = (perturbation: unknown): boolean => {
  const reg = registry.clone().register(firstLocations).register(classifier);
  try {
    validateConfig({ ...config({}), perturbation }, reg);
    return true;
  } catch {
    return false;
  }
};

describe('definePlugin with a TypeBox schema', () => {
  it('gives the JSON Schema: required fields, defaults optional, no TypeBox markers', () => {
    expect(firstLocations.schema).toEqual({
      type: 'object',
      required: ['keep'],
      properties: {
        keep: { type: 'integer', minimum: 1 },
        levels: { type: 'integer', minimum: 2, default: 256 },
        fail: { anyOf: [{ const: 'no', type: 'string' }, { const: 'create', type: 'string' }, { const: 'sample', type: 'string' }], default: 'no' },
      },
    });
    expect(Object.getOwnPropertySymbols(firstLocations.schema)).toEqual([]);
  });

  it('the typed config learns the type from the declaration: defaults optional, required fields required', () => {
    const ok: AblateConfig['perturbation'] = { type: 'first-locations', keep: 3 };
    const full: AblateConfig['perturbation'] = { type: 'first-locations', keep: 3, levels: 4, fail: 'sample' };
    // @ts-expect-error `keep` has no default
    const missing: AblateConfig['perturbation'] = { type: 'first-locations' };
    // @ts-expect-error `fail` is one of three names
    const wrong: AblateConfig['perturbation'] = { type: 'first-locations', keep: 3, fail: 'sometimes' };
    expect([ok, full, missing, wrong].map((c) => validate(c))).toEqual([true, true, false, false]);
  });

  it('its options are validated (defaults filled in) and reach create()', async () => {
    const rt = await createContainer(config({ type: 'first-locations', keep: 3 }), { plugins: [firstLocations, classifier] });
    expect((rt.perturbation as FirstLocations).options).toEqual({ keep: 3, levels: 256, fail: 'no' });
    const cert = await rt.smoothed.certify({ data: new Float32Array(16), shape: [1, 4, 4] });
    expect(cert.prediction).toBe(1);
    await rt.dispose();
    await expect(createContainer(config({ type: 'first-locations', keep: 0 }), { plugins: [firstLocations, classifier] })).rejects.toMatchObject({
      code: 'ABLATE_CONFIG',
      issues: [{ path: '/perturbation/keep', message: 'must be ≥ 1, got 0' }],
    });
  });

  it("an error thrown by the plug-in's create() is a PLUGIN_ERROR naming its type and config path, with the cause", async () => {
    const error = await createContainer(config({ type: 'first-locations', keep: 3, fail: 'create' }), { plugins: [firstLocations, classifier] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginError);
    expect(error).toBeInstanceOf(AblateError);
    expect(error).toMatchObject({ code: 'PLUGIN_ERROR', field: '/perturbation', pluginType: 'first-locations', kind: 'perturbation' });
    expect((error as Error).message).toContain('/perturbation: the perturbation plug-in "first-locations" failed in create(): RangeError: cannot keep 3 of 256');
    expect((error as Error).cause).toBeInstanceOf(RangeError);
  });

  it("an error thrown by a perturbation's sample() is a PLUGIN_ERROR; the runtime stays usable", async () => {
    const rt = await createContainer(config({ type: 'first-locations', keep: 3, fail: 'sample' }), { plugins: [firstLocations, classifier] });
    const error = await rt.smoothed.certify({ data: new Float32Array(16), shape: [1, 4, 4] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PLUGIN_ERROR', field: '/perturbation', pluginType: 'first-locations' });
    expect((error as Error).message).toContain('failed in sample(): TypeError: boom in sample');
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    await rt.dispose();
  });

  it('the older `schema` form keeps working', async () => {
    const old = definePlugin<'perturbation', { keep: number }>({
      kind: 'perturbation',
      type: 'first-locations-old',
      description: 'same, JSON Schema form',
      schema: { required: ['keep'], properties: { keep: { type: 'integer', minimum: 1 } } },
      create: (o) => new FirstLocations({ keep: o.keep, levels: 256, fail: 'no' }),
    });
    const rt = await createContainer(config({ type: 'first-locations-old', keep: 2 }), { plugins: [old, classifier] });
    expect((rt.perturbation as FirstLocations).options.keep).toBe(2);
    await rt.dispose();
  });
});

describe('register() compiles the plug-in schema', () => {
  const base = { kind: 'perturbation' as const, type: 'broken', description: 'x', create: () => new FirstLocations({ keep: 1, levels: 2, fail: 'no' }) };
  const registerError = (schema: unknown) => {
    try {
      new PluginRegistry().register({ ...base, schema } as never);
    } catch (error) {
      return error as AblateError;
    }
    throw new Error('register() accepted the schema');
  };

  it('a schema that is not valid JSON Schema names the plug-in and its slot', () => {
    const e = registerError({ properties: { keep: { type: 'integr' } } });
    expect(e.code).toBe('ABLATE_ARGUMENT');
    expect(e.field).toBe('plugin.schema');
    expect(e.message).toMatch(/^plugin\.schema: the perturbation plug-in "broken": its options schema is not valid JSON Schema: .*type/);
  });

  it('a schema that is not an object, describes a non-object, or declares an option "type" is refused', () => {
    expect(registerError(undefined).message).toContain('the perturbation plug-in "broken": its options schema must be a JSON Schema object, got undefined');
    expect(registerError({ type: 'array' }).message).toContain('must describe an object, got "type": "array"');
    expect(registerError({ properties: { type: { type: 'string' } } }).message).toContain('declares an option named "type"');
  });

  it('a default that breaks its own option\'s schema is refused at register(), naming the plug-in and the option (not blamed on a config)', () => {
    const e = registerError({ properties: { keep: { type: 'integer', minimum: 1, default: -5 } } });
    expect(e.code).toBe('ABLATE_ARGUMENT');
    expect(e.field).toBe('plugin.schema');
    expect(e.message).toMatch(/^plugin\.schema: the perturbation plug-in "broken": the default of its option "keep" \(-5\) does not satisfy that option's own schema: .*>= 1/);
    // a default that satisfies it registers (and a TypeBox withDefault is the same JSON Schema)
    expect(() => new PluginRegistry().register({ ...base, type: 'fine', schema: { properties: { keep: { type: 'integer', minimum: 1, default: 3 } } } } as never)).not.toThrow();
  });

  it('valid schemas register; the global registry holds the built-ins unchanged', () => {
    expect(() => new PluginRegistry().register(firstLocations)).not.toThrow();
    expect(registry.get('perturbation', 'first-locations')).toBeUndefined();
  });
});
