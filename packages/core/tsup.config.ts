import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };
// The version the shared registry checks (src/version.ts).
// Three entries, `.` (src/index.ts), `./math` (src/math.ts) and the Node-only `./node` (src/node.ts: the model-file
// reader the Node backends share; neither other entry imports it, so those two stay free of Node built-ins). Every
// dependency stays external: inversify (ESM only) is loaded by `await import('inversify')` inside createContainer —
// the CommonJS build turns that into a lazy `require('inversify')`, which Node ≥ 20.19 (our engines floor) serves
// with require(esm) — so neither build carries a copy of it.
// - ESM: one output file per source module (bundle: false), so that a bundler drops every module an app does not
//   reach (package.json `sideEffects` names the index alone): `{ ablationDelta }` from the math entry takes a few
//   KB, not @stdlib's statistics, which a single bundled chunk would drag along (CommonJS packages are never
//   tree-shaken). No keepNames: its `static { __name(this, …) }` blocks would make every class a side effect;
//   class names survive as written (light-entry.test.ts checks the error classes').
// - CommonJS: the entries bundled with one shared chunk (an error class is one object from either entry),
//   keepNames.
// - Declarations: bundled per entry, .d.ts and .d.cts, with a shared chunk.
const define = { __ABLATE_CORE_VERSION__: JSON.stringify(version) };
const entry = { index: 'src/index.ts', math: 'src/math.ts', node: 'src/node.ts' };

export default defineConfig([
  { entry: ['src/**/*.ts'], bundle: false, format: ['esm'], dts: { entry }, sourcemap: true, target: 'node20', platform: 'neutral', define, clean: true },
  { entry, format: ['cjs'], dts: true, splitting: true, sourcemap: true, target: 'node20', platform: 'neutral', define, keepNames: true, shims: true, clean: false },
]);
