import type { BaseClassifier } from '../classifier/base-classifier.js';
import type { Certifier } from '../certifiers/certifier.js';
import type { Dataset } from '../dataset/dataset.js';
import type { Encoder } from '../encoders/encoder.js';
import type { Perturbation } from '../perturbations/perturbation.js';
import type { Attack } from '../attacks/attack.js';
import type { Static, TObject, TSchema } from '@sinclair/typebox';

/** The slots of a config, each filled by one plug-in. @category Plug-in authors */
export interface SlotTypes {
  dataset: Dataset;
  perturbation: Perturbation;
  encoder: Encoder;
  classifier: BaseClassifier;
  certifier: Certifier;
  /** Optional: an empirical attack against the smoothed (or base) classifier, for `ablate attack`. */
  attack: Attack;
}
/** The slot a plug-in fills: `dataset`, `perturbation`, `encoder`, `classifier` or `certifier`. @category Plug-in authors */
export type PluginKind = keyof SlotTypes;

/** A JSON Schema object (draft-07 subset understood by ajv). @category Plug-in authors */
export type JsonSchema = { [key: string]: unknown };

/** What a plug-in's `create` may use besides its own options. @category Plug-in authors */
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
 * @category Plug-in authors
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
 * A plug-in declared once with a TypeBox schema (`options`): the schema gives the JSON Schema of its options
 * (checked by the config validator and written by `ablate schema`), the options type `create` receives, and the
 * typed config entry (`PluginConfigEntry`).
 * @category Plug-in authors
 */
export interface PluginDeclaration<K extends PluginKind, T extends string, S extends TObject> {
  kind: K;
  /** The `type` value that selects it in a config, e.g. `block-ablation`. */
  type: T;
  /** One line for `--help` and docs. */
  description: string;
  /** TypeBox schema of the options object (without `type`). Mark fields with a default with `withDefault`, optional ones with `Type.Optional`. */
  options: S;
  /** Builds the slot from its validated options (defaults filled in) and the context. */
  create(options: PluginOptions<S>, context: PluginContext): SlotTypes[K] | Promise<SlotTypes[K]>;
}

/** What `definePlugin` returns for a TypeBox declaration: a `Plugin` that keeps its literal `type` and schema. @category Plug-in authors */
export type TypedPlugin<K extends PluginKind, T extends string, S extends TObject> = Plugin<K, PluginOptions<S>> & { readonly type: T; readonly options: S };

/** The options `create` receives for a TypeBox options schema: every field present (the validator fills in defaults). @category Plug-in authors */
export type PluginOptions<S extends TSchema> = Static<S>;

/** The fields of a TypeBox object schema that carry a `default` (declared with `withDefault`). @category Plug-in authors */
export type DefaultedKeys<S> = S extends { properties: infer P } ? { [F in keyof P]: P[F] extends { default: unknown } ? F : never }[keyof P] : never;

/** The options as written in a config: fields with a default may be left out. @category Plug-in authors */
export type ConfigOptions<S extends TSchema> = Omit<Static<S>, DefaultedKeys<S>> & Partial<Pick<Static<S>, DefaultedKeys<S> & keyof Static<S>>>;

/**
 * An option with a default: a config may leave it out, and it reaches `create` as `value` (the config validator
 * fills it in). Its type stays required in `PluginOptions` and optional in `ConfigOptions`.
 *
 * @example
 * options: Type.Object({ levels: withDefault(Type.Integer({ minimum: 2 }), 256) })
 * @category Plug-in authors
 */
export function withDefault<S extends TSchema>(schema: S, value: Static<S>): S & { default: Static<S> } {
  return { ...schema, default: value };
}

/**
 * The entry a plug-in adds to its slot's options map (`PerturbationOptionsMap`, …), derived from its declaration,
 * so the typed config (`AblateConfig`) learns the new type without writing its options again.
 *
 * @example
 * declare module '@ablate/core' {
 *   interface PerturbationOptionsMap extends PluginConfigEntry<typeof blockAblationPlugin> {}
 * }
 * @category Plug-in authors
 */
export type PluginConfigEntry<P> = P extends { readonly type: infer T extends string; readonly options: infer S extends TSchema } ? { [N in T]: ConfigOptions<S> } : never;

/** `schema` with every property that has a `default` removed from `required`, in nested objects too. */
export function withoutDefaultedRequired<S extends JsonSchema>(schema: S): S {
  const props = schema.properties as Record<string, JsonSchema> | undefined;
  if (!props || typeof props !== 'object') return schema;
  const properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v && typeof v === 'object' ? withoutDefaultedRequired(v) : v]));
  const out: JsonSchema = { ...schema, properties };
  if (Array.isArray(schema.required)) out.required = (schema.required as string[]).filter((k) => !(props[k] && typeof props[k] === 'object' && 'default' in props[k]!));
  return out as S;
}

/**
 * Declares a plug-in. The one-source form takes a TypeBox schema as `options` and infers everything from it
 * (the JSON Schema, the options type of `create`, the config entry); the older form takes a JSON Schema as
 * `schema` with the options type given explicitly.
 *
 * @example
 * import { Type } from '@sinclair/typebox';
 * export const blockAblationPlugin = definePlugin({
 *   kind: 'perturbation',
 *   type: 'block-ablation',
 *   description: 'Keep one random w×w block of pixels',
 *   options: Type.Object({ block: Type.Integer({ minimum: 1, description: 'Side w of the block.' }) }),
 *   create: (options) => new BlockAblation(options), // options: { block: number }
 * });
 * registry.register(blockAblationPlugin); // or createContainer(config, { plugins: [blockAblationPlugin] })
 *
 * @example
 * export const blockAblationPlugin = definePlugin<'perturbation', { block: number }>({
 *   kind: 'perturbation',
 *   type: 'block-ablation',
 *   description: 'Keep one random w×w block of pixels',
 *   schema: { required: ['block'], properties: { block: { type: 'integer', minimum: 1 } } },
 *   create: (options) => new BlockAblation(options),
 * });
 * @category Plug-in authors
 */
export function definePlugin<K extends PluginKind, const T extends string, S extends TObject>(declaration: PluginDeclaration<K, T, S>): TypedPlugin<K, T, S>;
export function definePlugin<K extends PluginKind, O>(plugin: Plugin<K, O>): Plugin<K, O>;
export function definePlugin(plugin: Plugin | PluginDeclaration<PluginKind, string, TObject>): Plugin {
  if (!('options' in plugin) || 'schema' in plugin) return plugin as Plugin;
  // The JSON Schema is the TypeBox schema as JSON (TypeBox marks its nodes with symbols, which JSON drops).
  const schema = withoutDefaultedRequired(JSON.parse(JSON.stringify(plugin.options)) as Plugin['schema']);
  return { ...plugin, schema } as Plugin;
}
