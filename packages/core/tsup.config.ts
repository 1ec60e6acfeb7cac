import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };
// The version the shared registry checks (src/version.ts); keepNames so that error classes keep their names.
const common = { dts: true, sourcemap: true, target: 'node20', keepNames: true, define: { __ABLATE_CORE_VERSION__: JSON.stringify(version) } } as const;

// inversify ≥ 7 ships ESM only; the CommonJS build bundles it (and its @inversifyjs parts) so that
// `require('@ablate/core')` works on every supported Node version without require(esm).
// TypeBox (re-exported as `Type` for definePlugin) is bundled in both: as its ~300 ES modules it alone takes
// ~150 ms to import, bundled ~10 ms. Its types stay external (the .d.ts imports @sinclair/typebox, a dependency).
export default defineConfig([
  { ...common, entry: ['src/index.ts'], format: ['esm'], clean: true, noExternal: ['@sinclair/typebox'] },
  { ...common, entry: ['src/index.ts'], format: ['cjs'], clean: false, shims: true, noExternal: ['inversify', /^@inversifyjs\//, '@sinclair/typebox'] },
]);
