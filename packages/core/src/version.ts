declare const __ABLATE_CORE_VERSION__: string | undefined;

/**
 * The version of this copy of @ablate/core (its package.json `version`, written in at build time by tsup's
 * `define`; vitest defines it too when tests run the sources).
 * @category Plug-in authors
 */
export const CORE_VERSION: string = typeof __ABLATE_CORE_VERSION__ === 'string' ? __ABLATE_CORE_VERSION__ : '0.0.0-source';

/**
 * The compatibility policy of the shared plug-in registry (semver): two copies of @ablate/core may share one
 * registry when their major versions are equal and, before 1.0, their minor versions too — exactly the range a
 * plug-in's `"peerDependencies": { "@ablate/core": "^x.y.z" }` accepts. Pre-release tags are ignored.
 *
 * @example
 * coreVersionsCompatible('0.1.0', '0.1.7'); // true
 * coreVersionsCompatible('0.1.0', '0.2.0'); // false: 0.x minors may break
 * coreVersionsCompatible('1.2.0', '1.9.3'); // true
 * @category Plug-in authors
 */
export function coreVersionsCompatible(a: string, b: string): boolean {
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return a === b;
  if (pa[0] !== pb[0]) return false;
  return pa[0] > 0 || pa[1] === pb[1];
}

function parse(v: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.\d+/.exec(v);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
