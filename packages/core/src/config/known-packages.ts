import type { PluginKind } from './plugin.js';

/**
 * The plug-in types the ablate packages provide, so that a config naming one whose package is not loaded gets
 * the install line instead of a bare "unknown type". The CLI also uses it to load backends lazily, on first use
 * of their `type`, and lists their types in the shipped config schema (`ablate schema` loads every package named
 * here; the CLI has each as a dev dependency, so that schema does not depend on what happens to be installed). A
 * type listed here is reserved for its package even before that package loads (no plug-in may shadow it).
 * @category Plug-in authors
 */
export const KNOWN_PLUGIN_PACKAGES: Readonly<Partial<Record<PluginKind, Readonly<Record<string, string>>>>> = {
  classifier: { onnx: '@ablate/backend-onnx', 'onnx-web': '@ablate/backend-web', tfjs: '@ablate/backend-tfjs' },
  dataset: { mnist: '@ablate/datasets', 'fashion-mnist': '@ablate/datasets', cifar10: '@ablate/datasets', 'image-folder': '@ablate/datasets' },
};

/**
 * The package that provides plug-in `type` of `kind`, when it is one of ablate's own.
 *
 * @example
 * packageProviding('classifier', 'tfjs'); // '@ablate/backend-tfjs'
 * @category Plug-in authors
 */
export function packageProviding(kind: string, type: unknown): string | undefined {
  if (typeof type !== 'string') return undefined;
  const map = KNOWN_PLUGIN_PACKAGES[kind as PluginKind];
  return map && Object.hasOwn(map, type) ? map[type] : undefined;
}

/** The sentence that tells how to get a known plug-in package. @category Plug-in authors */
export function installHint(pkg: string): string {
  return `it is provided by ${pkg}, which is not loaded: npm install ${pkg} and import '${pkg}' (the ablate CLI imports it by itself once installed)`;
}
