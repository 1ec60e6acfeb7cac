import { Ajv, type ErrorObject } from 'ajv';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { quote } from '../quote.js';
import { builtinPlugins } from './builtins.js';
import { installHint, KNOWN_PLUGIN_PACKAGES, packageProviding } from './known-packages.js';
import type { PluginKind } from './plugin.js';
import type { PluginRegistry } from './registry.js';
import { MAX_CONFIG_DEPTH } from '../limits.js';

/**
 * Validates a config against the registry's assembled schema (ajv, all errors, defaults filled in) and
 * returns a validated deep copy. Throws ConfigError listing one readable issue per wrong field.
 *
 * Besides JSON Schema, plug-in schemas may use `binary: true`: the value must be a Uint8Array (a Buffer is
 * one) — bytes passed from code, e.g. an ONNX model. Binary values are neither copied nor walked, and a
 * message quotes at most MAX_QUOTE_CHARS of any value (binary as its byte count).
 * @category App authors
 */
export function validateConfig<T = Record<string, unknown>>(config: unknown, registry: PluginRegistry, options: { required?: readonly PluginKind[] } = {}): T {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new ConfigError([{ path: '', message: `the config must be a JSON object, got ${Array.isArray(config) ? 'an array' : config === null ? 'null' : typeof config}` }]);
  }
  const tooDeep = findTooDeep(config);
  if (tooDeep !== undefined) {
    throw new ConfigError([{ path: tooDeep, message: `is nested more than ${MAX_CONFIG_DEPTH} levels deep (objects or arrays inside each other, or a cycle); a config is at most ${MAX_CONFIG_DEPTH} levels deep` }]);
  }
  const copy = cloneConfig(config) as Record<string, unknown>;
  const nonFinite = findNonFinite(copy, '');
  if (nonFinite.length) throw new ConfigError(nonFinite);
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
  ajv.addKeyword({
    keyword: 'binary',
    schemaType: 'boolean',
    errors: false,
    validate: (wanted: boolean, data: unknown) => !wanted || data instanceof Uint8Array,
  });
  const validate = ajv.compile(registry.configSchema(options.required));
  if (!validate(copy)) throw new ConfigError(toIssues(validate.errors ?? []));
  return copy as T;
}

/** Deep copy of plain objects and arrays; binary values (typed arrays, Buffers) are kept by reference. */
function cloneConfig(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
  if (Array.isArray(value)) return value.map(cloneConfig);
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cloneConfig(v)]));
}

/** The JSON pointer of the first value nested deeper than MAX_CONFIG_DEPTH (iterative: no stack overflow), if any. */
export function findTooDeep(config: unknown): string | undefined {
  const stack: [unknown, string, number][] = [[config, '', 0]];
  while (stack.length > 0) {
    const [value, path, depth] = stack.pop()!;
    if (!value || typeof value !== 'object' || ArrayBuffer.isView(value)) continue;
    if (depth >= MAX_CONFIG_DEPTH) return path;
    for (const [k, v] of Object.entries(value)) stack.push([v, `${path}/${Array.isArray(value) ? k : escape(k)}`, depth + 1]);
  }
  return undefined;
}

function findNonFinite(value: unknown, path: string): ConfigIssue[] {
  if (typeof value === 'number' && !Number.isFinite(value)) return [{ path, message: `must be a finite number, got ${value}` }];
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    return Object.entries(value).flatMap(([k, v]) => findNonFinite(v, `${path}/${Array.isArray(value) ? k : escape(k)}`));
  }
  return [];
}

/** `classifier` for `/classifier/type`. */
function slotOf(path: string): string | undefined {
  return /^\/([a-z]+)\/type$/.exec(path)?.[1];
}

/** For `/<slot>/type`, the ablate package that provides `type` (when one does). */
function slotTypePackage(path: string, type: unknown): string | undefined {
  const m = /^\/([a-z]+)\/type$/.exec(path);
  return m ? packageProviding(m[1]!, type) : undefined;
}

/**
 * The types ablate itself provides for a slot: @ablate/core's own and those of its packages that are loaded on
 * first use (the backends, the datasets), sorted.
 */
export function builtinTypes(kind: string): string[] {
  const own = builtinPlugins.filter((p) => p.kind === kind).map((p) => p.type);
  const lazy = Object.keys(KNOWN_PLUGIN_PACKAGES[kind as PluginKind] ?? {});
  return [...new Set([...own, ...lazy])].sort();
}

const typeList = (types: readonly unknown[]) => types.map((t) => JSON.stringify(t)).join(', ');

/** The message for a slot `type` that names no plug-in: every built-in type of the slot, and how to add others. */
function unknownTypeMessage(slot: string, type: unknown, registered: readonly string[]): { message: string; allowed: string[] } {
  const builtin = builtinTypes(slot);
  const others = registered.filter((t) => !builtin.includes(t));
  const message =
    `unknown ${slot} type ${quote(type)}: ${builtin.length ? `the built-in ${slot} types are ${typeList(builtin)}` : `ablate has no built-in ${slot} type`}` +
    `${others.length ? ` (also registered: ${typeList(others)})` : ''}; third-party types are added with --plugin <module> (ablate CLI) or, in code, by importing the module that registers them or passing them in createContainer's { plugins }`;
  return { message, allowed: [...builtin, ...others] };
}

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** "a string", "bytes (Uint8Array)"…: one branch of an anyOf, for the message. */
function branchName(schema: unknown): string {
  const s = (schema ?? {}) as { binary?: boolean; type?: string };
  if (s.binary) return 'bytes (Uint8Array)';
  if (s.type) return /^[aeiou]/.test(s.type) ? `an ${s.type}` : `a ${s.type}`;
  return 'a value of another form';
}

function toIssues(errors: ErrorObject[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  // An anyOf failure is reported once, as the list of its alternatives, not once per branch.
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => `${e.instancePath}|${e.schemaPath}/`);
  for (const e of errors) {
    if (e.keyword === 'if' || e.keyword === 'allOf') continue;
    if (anyOfPaths.some((p) => `${e.instancePath}|${e.schemaPath}`.startsWith(p))) continue;
    let path = e.instancePath;
    let message = e.message ?? 'is invalid';
    let allowed: unknown[] | undefined;
    switch (e.keyword) {
      case 'required':
        path = `${path}/${escape(String(e.params.missingProperty))}`;
        message = 'is required';
        break;
      case 'additionalProperties': {
        path = `${path}/${escape(String(e.params.additionalProperty))}`;
        const props = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
        allowed = props ? Object.keys(props) : undefined;
        message = allowed ? `is not a known option here (allowed: ${allowed.join(', ')})` : 'is not a known option here';
        break;
      }
      case 'enum': {
        allowed = e.params.allowedValues as unknown[];
        const pkg = slotTypePackage(path, e.data);
        const slot = slotOf(path);
        if (pkg) message = `${quote(e.data)} is not registered (registered: ${typeList(allowed)}): ${installHint(pkg)}`;
        else if (slot) ({ message, allowed } = unknownTypeMessage(slot, e.data, allowed as string[]));
        else message = `must be one of ${typeList(allowed)}, got ${quote(e.data)}`;
        break;
      }
      case 'not': {
        const pkg = slotTypePackage(path, e.data);
        const slot = slotOf(path);
        if (pkg) message = `no plug-in of this kind is registered, so ${quote(e.data)} cannot be used: ${installHint(pkg)}`;
        else if (slot) ({ message, allowed } = unknownTypeMessage(slot, e.data, []));
        else message = `no plug-in is registered, so ${quote(e.data)} cannot be used (import the module that registers it, or pass it in createContainer's { plugins }; the ablate CLI takes --plugin <module>)`;
        break;
      }
      case 'type':
        message = `must be ${e.params.type}, got ${quote(e.data)}`;
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum': {
        // The bound that was violated, as a number (a huge value reads "must be ≤ 1000000000, got 1e+20").
        const op = { minimum: '≥', maximum: '≤', exclusiveMinimum: '>', exclusiveMaximum: '<' }[e.keyword];
        message = `must be ${op} ${String(e.params.limit)}, got ${quote(e.data)}`;
        break;
      }
      case 'minLength':
      case 'maxLength':
      case 'minItems':
      case 'maxItems':
      case 'pattern':
        message = `${e.message}, got ${quote(e.data)}`;
        break;
      case 'anyOf': {
        const branches = ((e.parentSchema as { anyOf?: unknown[] } | undefined)?.anyOf ?? []).map(branchName);
        message = `must be ${branches.join(' or ')}, got ${quote(e.data)}`;
        break;
      }
      default:
        break;
    }
    const key = `${path}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(allowed ? { path, message, allowed } : { path, message });
  }
  return issues;
}
