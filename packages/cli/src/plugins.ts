import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin, PluginKind } from '@ablate/core';
import { UsageError } from './errors.js';

/**
 * Plug-in loading for the `ablate` command.
 *
 * - `--plugin <module>` (repeatable, resolved from the working directory) and the config's `"plugins": [...]`
 *   (resolved from the config file's folder) name modules to import before the config is validated.
 * - The contract of a plug-in module (docs/architecture.md, "Writing a plug-in"): on import it either registers
 *   its plug-ins itself (`registry.register(plugin)`, a side effect — like @ablate/backend-onnx), or it exports
 *   them: `plugins` (an array), or a default export that is one plug-in, an array of them, or `{ plugins }`
 *   (CommonJS: `module.exports = { plugins }`). A module that does neither is an error.
 * - The packages that provide ablate's own types (`onnx`, `tfjs`, the datasets) are optional for the CLI: they
 *   are imported on first use of their `type`, and a missing one is a usage error with its `npm install` line.
 */

/** Modules already imported (by resolved URL), so a plug-in named twice is loaded once. */
const loaded = new Set<string>();
/** The CLI's own folder: a package installed next to @ablate/cli (e.g. both global) is found from here. */
const ownDir = dirname(fileURLToPath(import.meta.url));

const isPath = (spec: string) => spec.startsWith('.') || isAbsolute(spec) || spec.startsWith('file:');
/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
const packageName = (spec: string) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

/** The largest plug-in module file imported (Node reads a module whole): 256 MiB. */
export const MAX_PLUGIN_MODULE_BYTES = 256 * 1024 ** 2;

/**
 * A plug-in module file must be a regular file of at most MAX_PLUGIN_MODULE_BYTES: Node's loader reads it whole,
 * so `--plugin /dev/zero` grew without bound and a FIFO hung the command. Checked before the import.
 */
function checkModuleFile(url: string, spec: string, origin: string): void {
  if (!url.startsWith('file:')) return;
  let file: string;
  try {
    file = fileURLToPath(url);
  } catch {
    throw new UsageError(origin, `"${spec}" is not a file URL of this system`, 'give the path of the plug-in module');
  }
  let stat;
  try {
    stat = statSync(file);
  } catch {
    throw new UsageError(origin, `cannot find plug-in module "${spec}" (${file})`, 'check the path (relative paths resolve from that folder)');
  }
  if (!stat.isFile()) {
    const kind = stat.isDirectory() ? 'a folder' : stat.isFIFO() ? 'a pipe' : stat.isCharacterDevice() || stat.isBlockDevice() ? 'a device' : 'not a regular file';
    throw new UsageError(origin, `plug-in module "${spec}" is ${kind}, not a module file`, 'give the path of a .js/.mjs/.cjs file, or a package name');
  }
  if (stat.size > MAX_PLUGIN_MODULE_BYTES) throw new UsageError(origin, `plug-in module "${spec}" is larger than ${MAX_PLUGIN_MODULE_BYTES} bytes`, 'is it the right file?');
}

/**
 * Resolves `spec` as Node would from a module in `fromDir`: a relative or absolute path against `fromDir`, a
 * package name through node_modules (CommonJS conditions first, then the package's `import` export for
 * ESM-only packages). Returns a file URL, or undefined when nothing is installed under that name.
 */
export function resolveModule(spec: string, fromDir: string): string | undefined {
  if (spec.startsWith('file:')) return spec;
  if (isPath(spec)) {
    const file = resolve(fromDir, spec);
    return existsSync(file) ? pathToFileURL(file).href : undefined;
  }
  try {
    return pathToFileURL(createRequire(join(fromDir, 'noop.js')).resolve(spec)).href;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') return resolveEsmOnly(spec, fromDir);
    if (code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

/** For a package whose `exports` has no CommonJS entry: its `import` (or `default`) entry for `.`. */
function resolveEsmOnly(spec: string, fromDir: string): string | undefined {
  const name = packageName(spec);
  const subpath = `.${spec.slice(name.length)}`;
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const pkgDir = join(dir, 'node_modules', name);
    if (existsSync(join(pkgDir, 'package.json'))) {
      const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { exports?: unknown };
      const exports = pkg.exports as Record<string, unknown> | string | undefined;
      const entry = typeof exports === 'string' || (exports && !Object.keys(exports).some((k) => k.startsWith('.'))) ? (subpath === '.' ? exports : undefined) : exports?.[subpath];
      const target = pick(entry);
      return target ? pathToFileURL(join(pkgDir, target)).href : undefined;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function pick(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (Array.isArray(entry)) return entry.map(pick).find(Boolean);
  if (entry && typeof entry === 'object') {
    const e = entry as Record<string, unknown>;
    for (const condition of ['import', 'node', 'default']) if (condition in e) return pick(e[condition]);
  }
  return undefined;
}

const isPlugin = (value: unknown): value is Plugin =>
  !!value && typeof value === 'object' && typeof (value as Plugin).kind === 'string' && typeof (value as Plugin).type === 'string' && typeof (value as Plugin).create === 'function';

/**
 * The plug-ins a module exports under the contract above (none when it only registers by side effect): its
 * `plugins` and its default export; when those hold none, each named export that is itself a plug-in
 * (`export const myPlugin = definePlugin(…)`, as the core README writes one).
 */
export function exportedPlugins(mod: Record<string, unknown>): Plugin[] {
  const found: Plugin[] = [];
  const take = (value: unknown) => {
    if (isPlugin(value)) found.push(value);
    else if (Array.isArray(value)) value.forEach(take);
    else if (value && typeof value === 'object' && Array.isArray((value as { plugins?: unknown }).plugins)) take((value as { plugins: unknown[] }).plugins);
  };
  take(mod.plugins);
  take(mod.default);
  if (found.length === 0) {
    for (const [name, value] of Object.entries(mod)) if (name !== 'plugins' && name !== 'default' && isPlugin(value)) found.push(value);
  }
  return [...new Set(found)];
}

/**
 * Imports one plug-in module resolved from `fromDir` and registers what it exports. `origin` names the flag or
 * config field for error messages (`--plugin`, `/plugins/0`).
 *
 * A module may not take a type of ablate's own (a built-in such as `cohen`, or a first-party package's type such
 * as `onnx`, `tfjs`, `mnist`, `image-folder`, whether that package is loaded or not): that is a usage error naming
 * the type, its slot and the module, unless the user names the type in `replace` (`--plugin-replace TYPE`); the
 * replacement is then announced through `notify` (stderr). Exported plug-ins are registered with
 * `{ replace: true }` then; a module that registers by side effect must itself pass `{ replace: true }` (the
 * registry refuses it otherwise).
 */
export async function loadPluginModule(spec: string, fromDir: string, origin: string, replace: readonly string[] = [], notify: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<void> {
  const url = resolveModule(spec, fromDir);
  if (!url) {
    throw new UsageError(origin, `cannot find plug-in module "${spec}" from ${fromDir}`, isPath(spec) ? 'check the path (relative paths resolve from that folder)' : `npm install ${packageName(spec)}`);
  }
  if (loaded.has(url)) return; // named twice (e.g. --plugin and the config): loaded once
  checkModuleFile(url, spec, origin);
  const { registry } = await import('@ablate/core');
  const allowed = new Set(replace);
  const refuse = (kind: PluginKind, type: string, owner: string) =>
    new UsageError(origin, `plug-in module "${spec}" registers ${kind} type "${type}", which belongs to ${owner}: refused (a plug-in may not replace ablate's own types silently)`, `rename the plug-in's type, or pass --plugin-replace ${type} to replace it on purpose`);
  const before = new Map(registry.plugins().map((p) => [`${p.kind}/${p.type}`, p]));
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const e = error as { code?: unknown; kind?: PluginKind; type?: string; provider?: string };
    if (e?.code === 'ABLATE_PLUGIN_CONFLICT' && e.kind && e.type && e.provider) {
      if (!allowed.has(e.type)) throw refuse(e.kind, e.type, e.provider);
      throw new UsageError(origin, `plug-in module "${spec}" registers ${e.kind} type "${e.type}" (which belongs to ${e.provider}) without { replace: true }`, 'a module that replaces a type by registering it on import must pass { replace: true } to registry.register (or export the plug-in instead)');
    }
    throw new UsageError(origin, `plug-in module "${spec}" failed to load: ${(error as Error)?.message ?? error}`);
  }
  loaded.add(url);
  // What the import registered by side effect: a type of ablate's own taken over needs the user's --plugin-replace.
  const added = registry.plugins().filter((p) => before.get(`${p.kind}/${p.type}`) !== p);
  for (const p of added) {
    let owner = registry.replacedFirstParty(p.kind, p.type);
    // A type of ablate's own registered as if by its owner ({ provider }) before that package was loaded: genuine
    // only when it is the very plug-in object the owner package exports (a module may import the package itself).
    const claimed = registry.firstPartyProvider(p.kind, p.type);
    if (owner === undefined && claimed !== undefined && !(await exportsPlugin(claimed, p, [fromDir, process.cwd()]))) owner = claimed;
    if (owner === undefined) continue;
    if (!allowed.has(p.type)) throw refuse(p.kind, p.type, owner);
    notify(`ablate: ${origin} ${spec} replaces ${p.kind} type "${p.type}" of ${owner}`);
  }
  let exported: Plugin[];
  try {
    exported = exportedPlugins(mod);
  } catch (error) {
    // (e.g. a getter on `plugins` that throws: named as this module's failure, not a bare message)
    throw new UsageError(origin, `plug-in module "${spec}" failed to load: reading its exports threw ${(error as Error)?.message ?? String(error)}`);
  }
  for (const p of exported) {
    if (registry.get(p.kind, p.type) === p) continue;
    const owner = registry.firstPartyProvider(p.kind, p.type);
    if (owner !== undefined && !allowed.has(p.type)) throw refuse(p.kind, p.type, owner);
    try {
      registry.register(p, owner !== undefined ? { replace: true } : {});
    } catch (error) {
      throw new UsageError(origin, `plug-in module "${spec}": ${(error as Error).message}`);
    }
    if (owner !== undefined) notify(`ablate: ${origin} ${spec} replaces ${p.kind} type "${p.type}" of ${owner}`);
  }
  if (added.length === 0 && exported.length === 0) {
    throw new UsageError(origin, `"${spec}" registered no plug-in and exports none`, 'a plug-in module calls registry.register(plugin) on import, or exports its plug-ins (`export const plugins = [plugin]`, a default export, or named exports made with definePlugin; see docs/architecture.md)');
  }
}

/**
 * Whether the first-party package `pkg`, installed where ensureType finds it, exports the plug-in object `p`: its
 * CommonJS or its ESM build (each registers its own plug-in object in the one shared registry).
 */
async function exportsPlugin(pkg: string, p: unknown, fromDirs: readonly string[]): Promise<boolean> {
  for (const dir of [...fromDirs, ownDir]) {
    for (const url of new Set([resolveModule(pkg, dir), resolveEsmOnly(pkg, dir)])) {
      if (!url) continue;
      let mod: Record<string, unknown>;
      try {
        mod = (await import(url)) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (Object.values(mod).some((v) => v === p || (Array.isArray(v) && v.includes(p)))) return true;
    }
  }
  return false;
}

/**
 * Makes `type` of `kind` available: nothing to do when registered; ablate's own packages are imported on
 * first use (from the config's folder, the working directory, or next to the CLI); anything else is a usage
 * error listing what is registered.
 */
export async function ensureType(kind: PluginKind, type: string, fromDirs: readonly string[], origin: string): Promise<void> {
  const { registry, packageProviding } = await import('@ablate/core');
  if (registry.get(kind, type)) return;
  const pkg = packageProviding(kind, type);
  if (!pkg) return; // validation reports it, listing every built-in type of the slot and how to add others
  await importKnownPackage(pkg, fromDirs, origin);
}

/** Imports one of ablate's plug-in packages, or says how to install it (exit 2). */
export async function importKnownPackage<T = Record<string, unknown>>(pkg: string, fromDirs: readonly string[], origin: string): Promise<T> {
  for (const dir of [...fromDirs, ownDir]) {
    const url = resolveModule(pkg, dir);
    if (url) return (await import(url)) as T;
  }
  throw new UsageError(origin, `${pkg} is not installed`, `npm install ${pkg}`);
}

/** What a command needs loaded before it validates its config. */
export interface PluginSources {
  /** `--plugin` values, resolved from the working directory. */
  cliPlugins: readonly string[];
  /** The config's `plugins`, resolved from `baseDir`. */
  configPlugins: readonly string[];
  /** The config file's folder (or the working directory without a config). */
  baseDir: string;
  /** `--plugin-replace` values: types of ablate's own that these modules may replace. */
  replace?: readonly string[];
}

/**
 * Loads the plug-in modules of the command line and the config, then the packages of ablate's own types the
 * config uses (`slots`: kind → type).
 */
export async function preparePlugins(sources: PluginSources, slots: Partial<Record<PluginKind, unknown>>): Promise<void> {
  const cwd = process.cwd();
  const replace = sources.replace ?? [];
  const { registry, SLOTS } = await import('@ablate/core');
  for (const type of replace) {
    if (!SLOTS.some((kind) => registry.firstPartyProvider(kind, type) !== undefined)) {
      throw new UsageError('--plugin-replace', `"${type}" is not a type of ablate's own, so no plug-in needs leave to replace it`, 'name a built-in or first-party type (e.g. onnx, mnist, cohen); other types need no flag');
    }
  }
  for (const spec of sources.cliPlugins) await loadPluginModule(spec, cwd, '--plugin', replace);
  for (const [i, spec] of sources.configPlugins.entries()) await loadPluginModule(spec, sources.baseDir, `/plugins/${i}`, replace);
  for (const [kind, type] of Object.entries(slots) as [PluginKind, unknown][]) {
    if (typeof type === 'string') await ensureType(kind, type, [sources.baseDir, cwd], `/${kind}/type`);
  }
}

/** The config's `plugins` list, checked to be an array of module names. */
export function configPlugins(config: Record<string, unknown>): string[] {
  const list = config.plugins;
  if (list === undefined) return [];
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s === '')) {
    throw new UsageError('/plugins', `must be an array of module names or paths, got ${JSON.stringify(list)}`, 'e.g. "plugins": ["./my-plugin.mjs", "ablate-plugin-foo"]');
  }
  return list as string[];
}

/**
 * Before a command that reads a config: loads `--plugin` modules, the config's `plugins`, and the packages of
 * ablate's own types that the effective config (file + flags) names.
 */
export async function preparePluginsFor(o: { config?: string; plugin?: string[]; pluginReplace?: string[] } & import('./config.js').ConfigOverrides, slots: readonly PluginKind[]): Promise<void> {
  const { effectiveConfig } = await import('./config.js');
  const { config, baseDir } = effectiveConfig(o.config, o);
  const raw = config as unknown as Record<string, Record<string, unknown> | undefined>;
  const types = Object.fromEntries(slots.map((k) => [k, raw[k]?.type]));
  await preparePlugins({ cliPlugins: o.plugin ?? [], configPlugins: configPlugins(config as unknown as Record<string, unknown>), baseDir, replace: o.pluginReplace }, types);
}
