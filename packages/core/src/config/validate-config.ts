import { Ajv, type ErrorObject } from 'ajv';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { installHint, packageProviding } from './known-packages.js';
import type { PluginKind } from './plugin.js';
import type { PluginRegistry } from './registry.js';

/**
 * Validates a config against the registry's assembled schema (ajv, all errors, defaults filled in) and
 * returns a validated deep copy. Throws ConfigError listing one readable issue per wrong field.
 */
export function validateConfig<T = Record<string, unknown>>(config: unknown, registry: PluginRegistry, options: { required?: readonly PluginKind[] } = {}): T {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new ConfigError([{ path: '', message: `the config must be a JSON object, got ${Array.isArray(config) ? 'an array' : config === null ? 'null' : typeof config}` }]);
  }
  const copy = structuredClone(config) as Record<string, unknown>;
  const nonFinite = findNonFinite(copy, '');
  if (nonFinite.length) throw new ConfigError(nonFinite);
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
  const validate = ajv.compile(registry.configSchema(options.required));
  if (!validate(copy)) throw new ConfigError(toIssues(validate.errors ?? []));
  return copy as T;
}

function findNonFinite(value: unknown, path: string): ConfigIssue[] {
  if (typeof value === 'number' && !Number.isFinite(value)) return [{ path, message: `must be a finite number, got ${value}` }];
  if (value && typeof value === 'object') {
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

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function toIssues(errors: ErrorObject[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'if' || e.keyword === 'allOf') continue;
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
        message = pkg
          ? `${JSON.stringify(e.data)} is not registered (registered: ${allowed.map((v) => JSON.stringify(v)).join(', ')}): ${installHint(pkg)}`
          : `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(e.data)}`;
        break;
      }
      case 'not': {
        const pkg = slotTypePackage(path, e.data);
        message = pkg
          ? `no plug-in of this kind is registered, so ${JSON.stringify(e.data)} cannot be used: ${installHint(pkg)}`
          : `no ${slotOf(path) ?? ''} plug-in is registered, so ${JSON.stringify(e.data)} cannot be used (import the module that registers it, or pass it in createContainer's { plugins }; the ablate CLI takes --plugin <module>)`.replace('no  plug-in', 'no plug-in');
        break;
      }
      case 'type':
        message = `must be ${e.params.type}, got ${JSON.stringify(e.data)}`;
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        message = `${e.message}, got ${JSON.stringify(e.data)}`;
        break;
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
