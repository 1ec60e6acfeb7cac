import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };
// The version the shared registry checks (src/version.ts).
// Two entries, `.` (src/index.ts) and `./math` (src/math.ts), split into shared chunks in both formats, so that an
// error class or a bound is one object whichever entry it came from. Every dependency stays external: inversify
// (ESM only) is loaded by `await import('inversify')` inside createContainer — the CommonJS build turns that into
// a lazy `require('inversify')`, which Node ≥ 20.19 (our engines floor) serves with require(esm) — so neither
// build carries a copy of it. No keepNames: its `static { __name(this, …) }` blocks make every class a side effect
// that no bundler can tree-shake, so the ESM build leaves them out (class names survive as they are there); the CommonJS
// build, which bundlers do not tree-shake anyway, keeps them (light-entry.test.ts checks every exported class's name).
const common = {
  entry: { index: 'src/index.ts', math: 'src/math.ts' },
  dts: true,
  sourcemap: true,
  target: 'node20',
  platform: 'neutral',
  splitting: true,
  define: { __ABLATE_CORE_VERSION__: JSON.stringify(version) },
} as const;

export default defineConfig([
  { ...common, format: ['esm'], clean: true },
  { ...common, format: ['cjs'], clean: false, shims: true, keepNames: true },
]);
