import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Tests that run @ablate/core's sources see the same version constant as its build (packages/core/tsup.config.ts).
const coreVersion = JSON.parse(readFileSync(new URL('./packages/core/package.json', import.meta.url), 'utf8')).version as string;

export default defineConfig({
  define: { __ABLATE_CORE_VERSION__: JSON.stringify(coreVersion) },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    setupFiles: ['./test/setup/yield-to-rpc.ts'],
    reporters: ['default'],
  },
});
