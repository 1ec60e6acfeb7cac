import { defineConfig } from 'tsup';

// Browser-safe: no Node built-in in the bundle (the Node-only file reading is a dynamic import behind a check).
export default defineConfig({ entry: ['src/index.ts'], format: ['esm', 'cjs'], dts: true, sourcemap: true, clean: true, target: 'es2022', platform: 'neutral', external: ['onnxruntime-web', '@ablate/core'] });
