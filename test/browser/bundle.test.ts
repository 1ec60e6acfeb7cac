import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build as esbuild } from 'esbuild';
import { build, type Plugin } from 'vite';

// A browser app (core + backend-web + the browser entry of datasets) bundled by vite for the browser: its module
// graph must not reach any Node built-in. Vite would otherwise swap each for an empty "browser-external" stub
// that throws on first use, so this is the check that the packages really are browser-safe.
const ROOT = join(__dirname, '../..');
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Bundles `source` as a browser app; returns every Node built-in its graph imports, with the importer. */
async function nodeBuiltinsIn(source: string): Promise<string[]> {
  const dir = mkdtempSync(join(ROOT, 'node_modules/.cache-bundle-'));
  writeFileSync(join(dir, 'main.js'), source);
  const found: string[] = [];
  const watch: Plugin = {
    name: 'find-node-builtins',
    enforce: 'pre',
    resolveId(id, importer) {
      if (builtins.has(id) || builtins.has(id.split('/')[0]!)) found.push(`${id} (imported by ${importer?.replace(ROOT, '.')})`);
      return null;
    },
  };
  try {
    await build({
      root: dir,
      configFile: false,
      logLevel: 'silent',
      plugins: [watch],
      build: { write: false, target: 'es2022', rollupOptions: { input: join(dir, 'main.js') }, chunkSizeWarningLimit: 100_000 },
    });
  } catch (error) {
    // a graph with built-ins may also fail to link (their browser stubs export nothing); report what was found
    if (found.length === 0) throw error;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return found;
}

describe('browser bundle', () => {
  it('core + backend-web + @ablate/datasets/browser: no Node built-in in the graph', async () => {
    const found = await nodeBuiltinsIn(`
      import { createContainer, SmoothedClassifier, PointwiseAttack, SequentialCertifier } from '@ablate/core';
      import { WebOnnxClassifier } from '@ablate/backend-web';
      import { idxDatasetFromBytes, decodePngBytes, imageFromImageData } from '@ablate/datasets/browser';
      console.log(createContainer, SmoothedClassifier, PointwiseAttack, SequentialCertifier, WebOnnxClassifier, idxDatasetFromBytes, decodePngBytes, imageFromImageData);
    `);
    expect(found).toEqual([]);
  }, 120_000);

  it('the check finds them: the Node entry of @ablate/datasets imports node:fs and friends', async () => {
    const found = await nodeBuiltinsIn(`import { loadMnist } from '@ablate/datasets'; console.log(loadMnist);`);
    expect(found.some((f) => /^(node:)?fs \(imported by .*datasets/.test(f))).toBe(true);
  }, 120_000);

  it('esbuild, platform browser: @ablate/core, @ablate/datasets/browser and @ablate/backend-web never reach @ablate/core/node', async () => {
    for (const entry of ['@ablate/core', '@ablate/datasets/browser', '@ablate/backend-web']) {
      const r = await esbuild({
        stdin: { contents: `import * as m from '${entry}'; console.log(m);`, resolveDir: ROOT, loader: 'js' },
        bundle: true,
        platform: 'browser',
        format: 'esm',
        write: false,
        metafile: true,
        logLevel: 'silent',
        external: ['onnxruntime-web'],
      });
      const inputs = Object.keys(r.metafile.inputs);
      expect(inputs.some((i) => /packages\/core\/dist\/index\.js$|core\/dist\/index\.js$/.test(i)), entry).toBe(true);
      expect(inputs.filter((i) => /core\/dist\/node(\.js|\/)|read-model-file/.test(i) || /^node:/.test(i)), entry).toEqual([]);
    }
  }, 120_000);
});
