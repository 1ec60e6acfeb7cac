import { defineConfig } from 'vitest/config';

// `pnpm test:pack`: the slow install-from-tarballs test (test/pack/*.spec.ts), outside the main suite.
export default defineConfig({
  test: {
    include: ['test/pack/**/*.spec.ts'],
    testTimeout: 300_000,
    hookTimeout: 900_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
