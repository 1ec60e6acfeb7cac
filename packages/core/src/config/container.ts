import type { Attack } from '../attacks/attack.js';
import type { BaseClassifier } from '../classifier/base-classifier.js';
import type { Certifier } from '../certifiers/certifier.js';
import type { Dataset } from '../dataset/dataset.js';
import type { Encoder } from '../encoders/encoder.js';
import { encodedShape } from '../encoders/encoder.js';
import { SmoothedClassifier, type SmoothingOptions } from '../engine/smoothed-classifier.js';
import { assertBatchFits } from '../engine/batch-memory.js';
import { AblateError, ConfigError, PluginError } from '../errors.js';
import { builtinPlugins } from './builtins.js';
import { asyncDispose } from '../dispose.js';
import { certifyRows, predictRows, predictSampleCount, type CertifyAllOptions, type CertifyRow, type PredictAllOptions, type PredictRow } from '../engine/dataset-run.js';
import type { Perturbation } from '../perturbations/perturbation.js';
import { sharedRegistry } from './global-registry.js';
import { installHint, packageProviding } from './known-packages.js';
import type { Plugin, PluginContext, PluginKind, SlotTypes } from './plugin.js';
import type { PluginRegistry } from './registry.js';
import type { AblateConfig, ResolvedConfig, SlotConfig } from './typed-config.js';
import { TOKENS } from './tokens.js';
import { validateConfig } from './validate-config.js';

/**
 * The process-wide plug-in registry, with the built-in plug-ins. Backend and dataset packages register theirs
 * here on import. It lives on `globalThis` (see global-registry.ts), so every copy and module format of
 * @ablate/core in a process shares it.
 *
 * @example
 * import { registry } from '@ablate/core';
 * import '@ablate/backend-onnx';
 * registry.types('classifier'); // ['onnx']
 * @category Plug-in authors
 */
export const registry: PluginRegistry = sharedRegistry(import.meta.url);

export type { AblateConfig, ResolvedConfig, SlotConfig } from './typed-config.js';
/** Options of `createContainer`. @category App authors */
export interface CreateContainerOptions {
  /** Extra plug-ins for this container only (the global registry is not changed). */
  plugins?: readonly Plugin[];
  /** Registry to start from (default: the global `registry`). */
  registry?: PluginRegistry;
  /**
   * Folder that relative paths in the config (`classifier.model`, `dataset.path`) resolve against: the config
   * file's folder when the config comes from a file (what the CLI passes), else the default, `process.cwd()`.
   */
  baseDir?: string;
  /** Where plug-ins report non-fatal problems (default `console.warn`). */
  warn?: (message: string) => void;
}

/**
 * What `createContainer` returns: the validated config and the parts the inversify container resolved. The
 * container itself stays internal (its types are inversify's, ESM-only, and would tie every app's type-check to
 * them).
 * @category App authors
 */
export interface AblateRuntime {
  /** The validated config, defaults filled in. */
  config: ResolvedConfig;
  smoothed: SmoothedClassifier;
  perturbation: Perturbation;
  encoder: Encoder;
  classifier: BaseClassifier;
  certifier: Certifier;
  dataset?: Dataset;
  /** The configured attack, when the config names one. */
  attack?: Attack;
  /**
   * CERTIFY over a range of the configured dataset, as an async iterator of the rows `ablate certify` writes (same
   * fields, same order, the same values but `seconds`), skipping `done` indices (resume); `signal` cancels within
   * one batch, `onProgress` reports per batch. Argument errors reject at the first `next()`.
   *
   * @example
   * for await (const row of rt.certifyAll({ start: 0, count: 100, signal, onProgress })) console.log(row.radius);
   */
  certifyAll(options?: CertifyAllOptions): AsyncGenerator<CertifyRow, void, undefined>;
  /** PREDICT over a range of the configured dataset: the rows `ablate predict` writes (see certifyAll). */
  predictAll(options?: PredictAllOptions): AsyncGenerator<PredictRow, void, undefined>;
  /**
   * Releases the classifier's native resources. A call in progress rejects with a DisposedError (code
   * `ABLATE_DISPOSED`) after its current batch, which finishes before the model is released. Idempotent.
   */
  dispose(): Promise<void>;
  /** `await using rt = await createContainer(…)`: disposes the runtime at the end of the block. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates one slot with its registered plug-in (options already validated). Argument errors thrown by the
 * plug-in are re-anchored at the slot's config path (e.g. `/perturbation/retain`).
 * @category Plug-in authors
 */
export async function createSlot<K extends PluginKind>(reg: PluginRegistry, kind: K, slot: SlotConfig, context: PluginContext): Promise<SlotTypes[K]> {
  const plugin = reg.get(kind, slot.type);
  if (!plugin) {
    const pkg = packageProviding(kind, slot.type);
    const message = `no ${kind} plug-in named ${JSON.stringify(slot.type)} is registered${pkg ? `: ${installHint(pkg)}` : ''}`;
    throw new ConfigError([{ path: `/${kind}/type`, message, allowed: reg.types(kind) }]);
  }
  const { type: _type, ...pluginOptions } = slot;
  let created: SlotTypes[K];
  try {
    created = (await plugin.create(pluginOptions, context)) as SlotTypes[K];
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if (error instanceof AblateError && error.field && !error.field.startsWith('/')) {
      throw new ConfigError([{ path: `/${kind}/${error.field}`, message: error.message }]);
    }
    if (error instanceof AblateError) throw error;
    throw new PluginError(kind, slot.type, 'create()', error);
  }
  if (kind === 'perturbation' && !builtinPlugins.includes(plugin)) wrapSample(created as Perturbation, slot.type);
  return created;
}

const WRAPPED = Symbol('ablate.wrappedSample');

/** A third-party perturbation's `sample` rethrows its own (non-ablate) errors as PluginError naming it. */
function wrapSample(perturbation: Perturbation, type: string): void {
  const target = perturbation as Perturbation & { [WRAPPED]?: true };
  if (!target || typeof target.sample !== 'function' || target[WRAPPED] || !Object.isExtensible(target)) return;
  const sample = target.sample;
  Object.defineProperty(target, 'sample', {
    configurable: true,
    writable: true,
    value: function (this: Perturbation, ...args: Parameters<Perturbation['sample']>) {
      try {
        return sample.apply(this, args);
      } catch (error) {
        if (error instanceof AblateError) throw error;
        throw new PluginError('perturbation', type, 'sample()', error);
      }
    },
  });
  Object.defineProperty(target, WRAPPED, { value: true });
}

/**
 * Validates `config` against the schema assembled from the registered plug-ins (ConfigError with one issue per
 * wrong field), creates each slot with its plug-in, binds them in an inversify container and resolves the
 * SmoothedClassifier. When a dataset is configured, the perturbation and the model are checked against its
 * image shape before anything runs. Relative paths in the config resolve against `options.baseDir` (default: the
 * working directory). A `type` of one of ablate's packages that is not loaded names its `npm install` line.
 *
 * @example
 * import { createContainer } from '@ablate/core';
 * import '@ablate/backend-onnx';
 * import '@ablate/datasets';
 *
 * const rt = await createContainer({
 *   dataset: { type: 'mnist', split: 'test' },
 *   perturbation: { type: 'ablation', retain: 45 },
 *   encoder: { type: 'multichannel' },
 *   classifier: { type: 'onnx', model: 'models/mnist-k45-multichannel.onnx' },
 *   certifier: { type: 'cohen', alpha: 0.05, n0: 1000, n: 10000 },
 * });
 * const cert = await rt.smoothed.certify(rt.dataset!.get(0).image, { index: 0 }); // { prediction: 7, radius: 11, … }
 * await rt.dispose();
 * @category App authors
 */
export async function createContainer(config: AblateConfig, options: CreateContainerOptions = {}): Promise<AblateRuntime> {
  const reg = (options.registry ?? registry).clone();
  // per-call plug-ins override third-party ones of the same type, never ablate's own (PluginConflictError)
  for (const p of options.plugins ?? []) reg.register(p, { replace: reg.firstPartyProvider(p.kind, p.type) === undefined });
  const valid = validateConfig<ResolvedConfig>(config, reg);
  const context: PluginContext = { baseDir: options.baseDir, warn: options.warn ?? ((m) => console.warn(m)) };

  const create = <K extends PluginKind>(kind: K, slot: SlotConfig) => createSlot(reg, kind, slot, context);

  const dataset = valid.dataset ? await create('dataset', valid.dataset) : undefined;
  context.dataset = dataset;
  const perturbation = await create('perturbation', valid.perturbation);
  context.perturbation = perturbation;
  const encoder = await create('encoder', valid.encoder);
  const classifier = await create('classifier', valid.classifier);
  context.classifier = classifier;
  try {
    const certifier = await create('certifier', valid.certifier);
    const attack = valid.attack ? await create('attack', valid.attack) : undefined;
    if (dataset) {
      try {
        perturbation.validate(dataset.shape);
      } catch (error) {
        if (error instanceof AblateError && error.field) throw new ConfigError([{ path: `/perturbation/${error.field}`, message: error.message }]);
        throw error;
      }
      await classifier.checkInputShape(encodedShape(encoder, dataset.shape));
    }
    const smoothing: SmoothingOptions = { seed: valid.seed ?? 0 };
    const batchSize = valid.batchSize ?? (valid.classifier.batchSize as number | undefined);
    if (batchSize !== undefined) smoothing.batchSize = batchSize;
    if (valid.imagesInFlight !== undefined) smoothing.imagesInFlight = valid.imagesInFlight;

    // The DI layer (inversify, which loads reflect-metadata and so patches the global `Reflect`) is imported
    // here, on the first createContainer call, not when @ablate/core is imported.
    const { Container } = await import('inversify');
    const container = new Container();
    container.bind(TOKENS.Config).toConstantValue(valid);
    if (dataset) container.bind(TOKENS.Dataset).toConstantValue(dataset);
    container.bind(TOKENS.Perturbation).toConstantValue(perturbation);
    container.bind(TOKENS.Encoder).toConstantValue(encoder);
    container.bind(TOKENS.BaseClassifier).toConstantValue(classifier);
    container.bind(TOKENS.Certifier).toConstantValue(certifier);
    if (attack) container.bind(TOKENS.Attack).toConstantValue(attack);
    container.bind(TOKENS.SmoothingOptions).toConstantValue(smoothing);
    container
      .bind(SmoothedClassifier)
      .toResolvedValue(
        (p: Perturbation, e: Encoder, c: BaseClassifier, cert: Certifier, o: SmoothingOptions) => new SmoothedClassifier(p, e, c, cert, o),
        [TOKENS.Perturbation, TOKENS.Encoder, TOKENS.BaseClassifier, TOKENS.Certifier, TOKENS.SmoothingOptions],
      )
      .inSingletonScope();
    container.bind(TOKENS.SmoothedClassifier).toService(SmoothedClassifier);
    const smoothed = container.get(SmoothedClassifier);
    if (dataset) {
      // Refuse a batch size whose buffers cannot be allocated before any image is computed: the largest draw is
      // CERTIFY's n0 or n, or PREDICT's n (`predict.n` may exceed the certifier's n).
      const most = Math.max(certifier.n0, certifier.n, predictSampleCount(valid) ?? 0);
      try {
        assertBatchFits(dataset.shape, encodedShape(encoder, dataset.shape), Math.min(smoothed.batchSize, most), smoothed.imagesInFlight);
      } catch (error) {
        if (error instanceof AblateError) throw new ConfigError([{ path: valid.batchSize !== undefined ? '/batchSize' : '/classifier/batchSize', message: error.message.replace(/^batchSize: /, '') }]);
        throw error;
      }
    }
    const dispose = () => smoothed.dispose();
    const runtime: AblateRuntime = {
      config: valid,
      smoothed,
      perturbation,
      encoder,
      classifier,
      certifier,
      dataset,
      attack,
      certifyAll: (runOptions) => certifyRows(runtime, runOptions),
      predictAll: (runOptions) => predictRows(runtime, runOptions),
      dispose,
      [asyncDispose]: dispose,
    };
    return runtime;
  } catch (error) {
    await classifier.dispose();
    throw error;
  }
}
