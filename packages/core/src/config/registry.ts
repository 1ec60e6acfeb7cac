import { AblateError, ArgumentError } from '../errors.js';
import { packageProviding } from './known-packages.js';
import { MAX_BATCH_SIZE, MAX_IMAGES_IN_FLIGHT, MAX_SAMPLES } from '../limits.js';
import { Ajv } from 'ajv';
import { builtinPlugins } from './builtins.js';
import { withoutDefaultedRequired, type JsonSchema, type Plugin, type PluginKind } from './plugin.js';

/** The slots of a config, in the order `createContainer` creates them. @category Plug-in authors */
export const SLOTS: readonly PluginKind[] = ['dataset', 'perturbation', 'encoder', 'classifier', 'certifier', 'attack'];
/** Slots every config must fill (a dataset is optional: library users pass images themselves; an attack is optional). @category Plug-in authors */
export const REQUIRED_SLOTS: readonly PluginKind[] = ['perturbation', 'encoder', 'classifier', 'certifier'];

/**
 * A plug-in tried to take the type of one of ablate's own plug-ins (a built-in such as `cohen`, or a type of a
 * first-party package such as `onnx` or `mnist`, loaded or not) without `{ replace: true }`. `provider` names
 * the package that owns the type.
 * @category App authors
 */
export class PluginConflictError extends AblateError {
  constructor(
    readonly kind: PluginKind,
    readonly type: string,
    readonly provider: string,
  ) {
    super('ABLATE_PLUGIN_CONFLICT', `${kind} type "${type}" belongs to ${provider}: a plug-in may not replace it silently`, {
      field: 'plugin.type',
      hint: 'give the plug-in another type name, or replace it on purpose: register(plugin, { replace: true }) in code, --plugin-replace TYPE with the ablate CLI',
    });
  }
}

/**
 * Plug-ins by kind and type. Built-ins are registered in `registry` (see builtins.ts); backends and
 * third-party packages add theirs with `registry.register(plugin)` or pass them to `createContainer`.
 * @category Plug-in authors
 */
export class PluginRegistry {
  private readonly byKind = new Map<PluginKind, Map<string, Plugin>>();
  /** Types registered by their first-party provider (`register(p, { provider })`), by `kind/type`. */
  private readonly providers = new Map<string, { provider: string; plugin: Plugin }>();

  /**
   * Adds a plug-in. A type of ablate's own (`firstPartyProvider`) is refused with a PluginConflictError unless
   * `replace` (or `provider` names its owner: how ablate's packages register their types); another type already
   * registered is an ArgumentError unless `replace`. Registering the registered plug-in object again does nothing.
   * Its options schema is compiled here: a schema that is not valid JSON Schema, does not describe an object, or
   * declares an option named `type` is an ArgumentError naming the plug-in and its slot.
   */
  register(plugin: Plugin, options: { replace?: boolean; provider?: string } = {}): this {
    if (!SLOTS.includes(plugin.kind)) {
      throw new ArgumentError('plugin.kind', `must be one of ${SLOTS.join(', ')}, got ${JSON.stringify(plugin.kind)}`);
    }
    if (typeof plugin.type !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/i.test(plugin.type)) {
      throw new ArgumentError('plugin.type', `must be a non-empty name of letters, digits, '.', '_' or '-', got ${JSON.stringify(plugin.type)}`);
    }
    if (typeof plugin.create !== 'function') throw new ArgumentError('plugin.create', 'must be a function');
    checkPluginSchema(plugin);
    if (this.get(plugin.kind, plugin.type) === plugin) return this; // the same plug-in again: nothing to do
    const owner = this.firstPartyProvider(plugin.kind, plugin.type);
    const key = `${plugin.kind}/${plugin.type}`;
    // the owner registering its type, or its very plug-in object passed again (e.g. in createContainer's plugins).
    // Once the owner has registered, a `provider` claim by another plug-in object is not ownership: it could
    // otherwise take `cohen` (or a loaded `onnx`) with { provider, replace } and hide that it replaced it.
    const registered = this.providers.get(key);
    const own = owner !== undefined && (registered !== undefined ? registered.plugin === plugin : options.provider === owner);
    if (owner !== undefined && !own && !options.replace) throw new PluginConflictError(plugin.kind, plugin.type, owner);
    let map = this.byKind.get(plugin.kind);
    if (!map) this.byKind.set(plugin.kind, (map = new Map()));
    if (map.has(plugin.type) && !options.replace) {
      throw new ArgumentError('plugin.type', `a ${plugin.kind} plug-in named "${plugin.type}" is already registered`, 'pass { replace: true } to override it');
    }
    map.set(plugin.type, plugin);
    if (options.provider !== undefined && (owner === undefined || own)) this.providers.set(key, { provider: options.provider, plugin });
    return this;
  }

  /** The ablate package that owns `type` of `kind` (built-ins: @ablate/core; e.g. onnx: @ablate/backend-onnx), if any. */
  firstPartyProvider(kind: PluginKind, type: string): string | undefined {
    return this.providers.get(`${kind}/${type}`)?.provider ?? packageProviding(kind, type);
  }

  /** When the registered `type` of `kind` is ablate's own type replaced by another plug-in: the type's owner. */
  replacedFirstParty(kind: PluginKind, type: string): string | undefined {
    const owner = this.firstPartyProvider(kind, type);
    const current = this.get(kind, type);
    return owner !== undefined && current !== undefined && current !== this.providers.get(`${kind}/${type}`)?.plugin ? owner : undefined;
  }

  /** The plug-in of `kind` named `type`, if registered. */
  get(kind: PluginKind, type: string): Plugin | undefined {
    return this.byKind.get(kind)?.get(type);
  }

  /** The registered type names of `kind`, sorted. */
  types(kind: PluginKind): string[] {
    return [...(this.byKind.get(kind)?.keys() ?? [])].sort();
  }

  /** Every registered plug-in. */
  plugins(): Plugin[] {
    return [...this.byKind.values()].flatMap((m) => [...m.values()]);
  }

  /** A new registry with the same plug-ins (so per-call additions do not leak into the global one). */
  clone(): PluginRegistry {
    const copy = new PluginRegistry();
    for (const [kind, map] of this.byKind) copy.byKind.set(kind, new Map(map));
    for (const [key, entry] of this.providers) copy.providers.set(key, entry);
    return copy;
  }

  /**
   * The JSON Schema of a whole config, assembled from the registered plug-ins: each slot is an object whose
   * `type` must name a registered plug-in, and whose other fields must match that plug-in's schema.
   */
  configSchema(required: readonly PluginKind[] = REQUIRED_SLOTS, options: { open?: boolean } = {}): JsonSchema {
    const slot = (kind: PluginKind): JsonSchema => {
      const types = this.types(kind);
      if (options.open) return openSlot(kind, types, (t) => this.get(kind, t)!);
      if (types.length === 0) {
        // Nothing registered for this slot: any value is an error that says so.
        return { type: 'object', required: ['type'], properties: { type: { type: 'string', not: {}, description: `no ${kind} plug-in is registered` } } };
      }
      return {
        type: 'object',
        required: ['type'],
        properties: { type: { enum: types } },
        allOf: types.map((t) => {
          const p = this.get(kind, t)!;
          return {
            if: { properties: { type: { const: t } }, required: ['type'] },
            then: optionsSchema(t, p),
          };
        }),
      };
    };
    const properties: Record<string, JsonSchema> = {
      $schema: { type: 'string', description: 'The JSON Schema of this file, for editors (e.g. node_modules/@ablate/cli/ablate.schema.json).' },
      plugins: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        description: 'Plug-in modules the ablate CLI imports before validating this config (paths relative to this file, or package names). createContainer does not import them: import them in your code.',
      },
      seed: { type: 'integer', minimum: -2147483648, maximum: 4294967295, default: 0, description: 'Seed of every random draw.' },
      batchSize: { type: 'integer', minimum: 1, maximum: MAX_BATCH_SIZE, description: 'Samples per classifier call (overrides classifier.batchSize).' },
      imagesInFlight: {
        type: 'integer',
        minimum: 1,
        maximum: MAX_IMAGES_IN_FLIGHT,
        description: 'Images computed at once (default 1) in a dataset run (and calls at once on the smoothed classifier); their classifier requests share batches of up to batchSize rows, so the sequential certifier’s small early checks fill the backend. Rows are unchanged; memory grows with it.',
      },
      predict: {
        type: 'object',
        additionalProperties: false,
        properties: {
          n: { type: 'integer', minimum: 1, maximum: MAX_SAMPLES, description: 'PREDICT samples per input (default: certifier.n, or certifier.maxSamples for the sequential certifier); with `sequential`, the most it may draw.' },
          sequential: { type: 'boolean', description: 'Sequential PREDICT: binomial tests at a geometric schedule of checks (α split by a union bound), stopping once the top class is decided.' },
        },
        description: "Run Cohen et al.'s PREDICT on each input too (its own random substream); certify rows gain a `predict` field.",
      },
    };
    for (const kind of SLOTS) properties[kind] = slot(kind);
    return {
      $id: 'https://ablate.dev/schema/config.json',
      type: 'object',
      additionalProperties: false,
      required: [...required],
      properties,
    };
  }
}

/** A plug-in type name, as `register` accepts it (case-insensitive /^[a-z0-9][a-z0-9._-]*$/i). */
const TYPE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';

/**
 * The schema of one plug-in's slot object (`type` plus its options). A field with a `default` is not required:
 * the runtime fills it in (ajv `useDefaults`), so the schema an editor sees and the runtime accept the same
 * configs (`{ "type": "cohen" }` is valid).
 */
function optionsSchema(type: string, p: Plugin): JsonSchema {
  const s = withoutDefaultedRequired(p.schema);
  return {
    additionalProperties: false,
    ...s,
    type: 'object',
    properties: { type: { const: type }, ...((s.properties as Record<string, JsonSchema> | undefined) ?? {}) },
  };
}

/**
 * A slot of the shipped (editor) schema: the registered types with their options checked exactly as the runtime
 * checks them, plus any other plug-in type name with free options, so that a config naming a third-party
 * plug-in (loaded with --plugin) is not flagged. `ablate schema --plugin <module>` adds that plug-in's checks.
 */
function openSlot(kind: PluginKind, types: readonly string[], get: (type: string) => Plugin): JsonSchema {
  const known = types.map((t) => ({ const: t, description: get(t).description }));
  return {
    type: 'object',
    required: ['type'],
    properties: {
      type: {
        anyOf: [
          ...known,
          {
            type: 'string',
            pattern: TYPE_NAME_PATTERN,
            ...(types.length ? { not: { enum: [...types] } } : {}),
            description: `a third-party ${kind} plug-in (loaded with --plugin; regenerate with \`ablate --plugin <module> schema\` to check its options)`,
          },
        ],
      },
    },
    allOf: types.map((t) => ({ if: { properties: { type: { const: t } }, required: ['type'] }, then: optionsSchema(t, get(t)) })),
  };
}

/** Schemas already compiled (clones re-register the same plug-ins). */
const checkedSchemas = new WeakSet<object>();
let schemaCompiler: Ajv | undefined;

/** Compiles a plug-in's options schema once, so that a broken one fails at `register()`, naming the plug-in. */
function checkPluginSchema(plugin: Plugin): void {
  const where = `the ${plugin.kind} plug-in "${plugin.type}"`;
  const fail = (message: string): never => {
    throw new ArgumentError('plugin.schema', `${where}: ${message}`, 'fix the plug-in: its `schema` (or TypeBox `options`) is the JSON Schema of the object of its options, without `type`');
  };
  const schema = plugin.schema as unknown;
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return fail(`its options schema must be a JSON Schema object, got ${schema === null ? 'null' : Array.isArray(schema) ? 'an array' : typeof schema}`);
  if (checkedSchemas.has(schema) || builtinPlugins.includes(plugin)) return;
  const s = schema as JsonSchema & { properties?: unknown };
  if (s.type !== undefined && s.type !== 'object') fail(`its options schema must describe an object, got "type": ${JSON.stringify(s.type)}`);
  if (s.properties !== undefined && (s.properties === null || typeof s.properties !== 'object' || Array.isArray(s.properties))) fail('its schema\'s "properties" must be an object');
  if (s.properties && Object.hasOwn(s.properties as object, 'type')) fail('declares an option named "type", which is the slot\'s plug-in name: call the option something else');
  schemaCompiler ??= new Ajv({ strict: false, allErrors: true, addUsedSchema: false });
  if (!schemaCompiler.getKeyword('binary')) schemaCompiler.addKeyword({ keyword: 'binary', schemaType: 'boolean' });
  try {
    schemaCompiler.compile({ ...s, type: 'object' });
  } catch (error) {
    fail(`its options schema is not valid JSON Schema: ${String((error as Error).message).slice(0, 300)}`);
  }
  // A default that breaks its own option's schema would be filled into every config that leaves the option out,
  // and then reported as the user's mistake ("/perturbation/k: must be ≥ 1, got -5"): refuse it here, naming it.
  for (const [name, option] of Object.entries((s.properties ?? {}) as Record<string, unknown>)) {
    if (option === null || typeof option !== 'object' || !Object.hasOwn(option, 'default')) continue;
    const own = option as JsonSchema;
    let valid: boolean;
    try {
      valid = schemaCompiler.validate(own, own.default) as boolean;
    } catch (error) {
      return fail(`the schema of its option "${name}" is not valid JSON Schema: ${String((error as Error).message).slice(0, 300)}`);
    }
    if (!valid) fail(`the default of its option "${name}" (${JSON.stringify(own.default)?.slice(0, 80)}) does not satisfy that option's own schema: ${schemaCompiler.errorsText(schemaCompiler.errors).slice(0, 200)}`);
  }
  checkedSchemas.add(schema);
}
