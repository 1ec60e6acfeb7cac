import { registry } from '@ablate/core';
import { UsageError } from './errors.js';

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * `--set path=value` (repeatable): sets a config field that has no flag of its own, e.g.
 * `--set perturbation.block=5`, `--set /certifier/slack=0.01` or `--set perturbation.layout=random`. The path is
 * dotted or a JSON pointer and must start at a top-level config key; the value is parsed as JSON when it is JSON
 * (numbers, booleans, arrays, objects, quoted strings), else taken as the string it is. Values are used as
 * written (relative paths resolve against the config file's folder, like the config's own). The whole config is
 * then validated as usual, so an option the plug-in does not know is reported with its path.
 */
export function applySets(config: Record<string, unknown>, sets: readonly string[]): void {
  const topLevel = Object.keys((registry.configSchema().properties as Record<string, unknown>) ?? {});
  for (const entry of sets) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new UsageError('--set', `expects path=value, got ${JSON.stringify(entry)}`, 'e.g. --set perturbation.block=5');
    const path = entry.slice(0, eq).trim();
    const text = entry.slice(eq + 1);
    const keys = path.startsWith('/') ? path.slice(1).split('/').map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~')) : path.split('.');
    if (keys.some((k) => k === '' || FORBIDDEN.has(k))) throw new UsageError('--set', `${JSON.stringify(path)} is not a config path`, 'e.g. perturbation.block or /perturbation/block');
    if (!topLevel.includes(keys[0]!)) {
      throw new UsageError('--set', `${JSON.stringify(path)} does not start at a config key (one of ${topLevel.join(', ')})`, 'e.g. --set perturbation.block=5');
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
    let node: Record<string, unknown> = config;
    for (let i = 0; i < keys.length - 1; i++) {
      const key = keys[i]!;
      const next = Object.hasOwn(node, key) ? node[key] : undefined;
      if (next === undefined) node = node[key] = {};
      else if (next !== null && typeof next === 'object' && !Array.isArray(next)) node = next as Record<string, unknown>;
      else throw new UsageError('--set', `${path}: /${keys.slice(0, i + 1).join('/')} is not an object in the config`);
    }
    node[keys[keys.length - 1]!] = value;
  }
}
