import { AblateError } from '../errors.js';
import { CORE_VERSION, coreVersionsCompatible } from '../version.js';
import { builtinPlugins } from './builtins.js';
import { PluginRegistry } from './registry.js';

/**
 * The key of the process-wide registry on `globalThis`. `Symbol.for` returns the same symbol in every module
 * instance, so the ESM and the CommonJS build of @ablate/core, and two installed copies of it, all find the one
 * registry the first of them created (no dual-package hazard, no "registered but not found").
 * @category Plug-in authors
 */
export const REGISTRY_KEY: unique symbol = Symbol.for('ablate.registry') as never;

/** What sits on `globalThis[REGISTRY_KEY]`. @category Plug-in authors */
export interface RegistryHolder {
  /** Version of the @ablate/core copy that created the registry. */
  readonly version: string;
  /** Where that copy was loaded from (a file URL or path), for error messages. */
  readonly location: string;
  readonly registry: PluginRegistry;
}

/**
 * Returns the process-wide registry, creating it (with the built-in plug-ins) on first use. A copy of
 * @ablate/core whose version is incompatible with the registry's creator (see `coreVersionsCompatible`) refuses
 * to load, naming both versions and locations: two such copies would otherwise register plug-ins that the other
 * cannot see or cannot run.
 * @category Plug-in authors
 */
export function sharedRegistry(location: string): PluginRegistry {
  const g = globalThis as { [REGISTRY_KEY]?: RegistryHolder };
  const held = g[REGISTRY_KEY];
  if (held) {
    if (!coreVersionsCompatible(held.version, CORE_VERSION)) {
      throw new AblateError(
        'ABLATE_VERSION',
        `@ablate/core ${CORE_VERSION} (${location}) was loaded into a process whose plug-in registry belongs to @ablate/core ${held.version} (${held.location}); these versions cannot share plug-ins`,
        { hint: 'install one @ablate/core version for the whole app (`npm ls @ablate/core`, then `npm dedupe` or align the versions the plug-ins ask for in their peerDependencies)' },
      );
    }
    return held.registry;
  }
  const registry = new PluginRegistry();
  for (const p of builtinPlugins) registry.register(p, { provider: '@ablate/core' });
  Object.defineProperty(g, REGISTRY_KEY, { value: { version: CORE_VERSION, location, registry } satisfies RegistryHolder, enumerable: false, configurable: false, writable: false });
  return registry;
}
