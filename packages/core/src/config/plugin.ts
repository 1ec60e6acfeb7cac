import type { BaseClassifier } from '../classifier/base-classifier.js';
import type { Certifier } from '../certifiers/certifier.js';
import type { Dataset } from '../dataset/dataset.js';
import type { Encoder } from '../encoders/encoder.js';
import type { Perturbation } from '../perturbations/perturbation.js';
import type { Attack } from '../attacks/attack.js';

/** The slots of a config, each filled by one plug-in. */
export interface SlotTypes {
  dataset: Dataset;
  perturbation: Perturbation;
  encoder: Encoder;
  classifier: BaseClassifier;
  certifier: Certifier;
  /** Optional: an empirical attack against the smoothed (or base) classifier, for `ablate attack`. */
  attack: Attack;
}
/** The slot a plug-in fills: `dataset`, `perturbation`, `encoder`, `classifier` or `certifier`. */
export type PluginKind = keyof SlotTypes;

/** A JSON Schema object (draft-07 subset understood by ajv). */
export type JsonSchema = { [key: string]: unknown };

/** What a plug-in's `create` may use besides its own options. */
export interface PluginContext {
  /** Folder relative paths in the config resolve against (createContainer's `baseDir`; undefined: the working directory). */
  baseDir?: string;
  /** The dataset, when the config names one (created first). */
  dataset?: Dataset;
  /** The perturbation, for certifiers that need one of its capabilities (created before them). */
  perturbation?: Perturbation;
  /** The base classifier, for certifiers (created after it). */
  classifier?: BaseClassifier;
  /** Where plug-ins report non-fatal problems (e.g. a CUDA fallback). Defaults to console.warn. */
  warn: (message: string) => void;
}

/**
 * A plug-in: a named implementation of one slot, with the JSON Schema of its options. Its options arrive
 * validated (defaults filled in) by the assembled config schema.
 */
export interface Plugin<K extends PluginKind = PluginKind, O = any> {
  kind: K;
  /** The `type` value that selects it in a config, e.g. `ablation`. */
  type: string;
  /** One line for `--help` and docs. */
  description: string;
  /** JSON Schema of the options object (without `type`, which is added). */
  schema: JsonSchema & { properties?: Record<string, JsonSchema>; required?: string[] };
  /** Builds the slot from its validated options (defaults filled in) and the context. */
  create(options: O, context: PluginContext): SlotTypes[K] | Promise<SlotTypes[K]>;
}

/**
 * Identity helper that types a plug-in literal (its options type `O` is what `create` receives).
 *
 * @example
 * export const blockAblationPlugin = definePlugin<'perturbation', { block: number }>({
 *   kind: 'perturbation',
 *   type: 'block-ablation',
 *   description: 'Keep one random w×w block of pixels',
 *   schema: { required: ['block'], properties: { block: { type: 'integer', minimum: 1 } } },
 *   create: (options) => new BlockAblation(options),
 * });
 * registry.register(blockAblationPlugin); // or createContainer(config, { plugins: [blockAblationPlugin] })
 */
export function definePlugin<K extends PluginKind, O>(plugin: Plugin<K, O>): Plugin<K, O> {
  return plugin;
}
