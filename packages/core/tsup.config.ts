import { defineConfig } from 'tsup';

// inversify ≥ 7 ships ESM only; the CommonJS build bundles it (and its @inversifyjs parts) so that
// `require('@ablate/core')` works on every supported Node version without require(esm).
export default defineConfig([
  { entry: ['src/index.ts'], format: ['esm'], dts: true, sourcemap: true, clean: true, target: 'node20' },
  {
    entry: ['src/index.ts'],
    format: ['cjs'],
    dts: true,
    sourcemap: true,
    clean: false,
    target: 'node20',
    noExternal: ['inversify', /^@inversifyjs\//],
  },
]);
