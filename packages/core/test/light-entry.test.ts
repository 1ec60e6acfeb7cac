import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

// The built entries of @ablate/core (dist, as published): `import '@ablate/core'` loads no DI layer and patches
// no global; the DI layer (inversify, which loads reflect-metadata) comes with the first createContainer call;
// neither entry imports a Node built-in (a browser bundle of either must build); `@ablate/core/math` tree-shakes.
const core = resolve(__dirname, '..');
const dist = join(core, 'dist');
const node = (source: string) => execFileSync(process.execPath, ['--input-type=module', '-e', source], { cwd: core, encoding: 'utf8', stdio: 'pipe' }).trim();

/** esbuild plug-in that records every Node built-in a bundle asks for (and marks it external so the build goes on). */
const builtins = (seen: string[]): Plugin => ({
  name: 'no-node-builtins',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => (isBuiltin(args.path) ? (seen.push(`${args.path} (from ${args.importer})`), { path: args.path, external: true }) : undefined));
  },
});
const bundle = async (contents: string, minify = true) => {
  const seen: string[] = [];
  const r = await build({
    stdin: { contents, resolveDir: core, loader: 'js' },
    bundle: true,
    minify,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [builtins(seen)],
  });
  // the modules that made it into the output (metafile.inputs also lists every module merely scanned)
  const inputs = Object.values(r.metafile.outputs).flatMap((o) => Object.keys(o.inputs));
  return { seen, code: r.outputFiles.map((f) => f.text).join('\n'), inputs };
};

describe('import @ablate/core', () => {
  it('patches no global Reflect and loads inversify only when createContainer runs (ESM and CommonJS)', () => {
    const use = `const rt = await core.createContainer({ perturbation: { type: 'ablation', retain: 3 }, encoder: { type: 'multichannel' }, classifier: { type: 'f' }, certifier: { type: 'cohen', n0: 10, n: 100 } },
  { plugins: [{ kind: 'classifier', type: 'f', description: '', schema: {}, create: () => new core.FunctionClassifier({ numClasses: 2, predict: () => 1 }) }] });
const c = await rt.smoothed.certify({ data: new Float32Array(9), shape: [1, 3, 3] });`;
    const esm = node(`const core = await import(${JSON.stringify(join(dist, 'index.js'))});
const before = typeof Reflect.getMetadata;
${use}
console.log(before, typeof Reflect.getMetadata, c.prediction, 'container' in rt);`);
    expect(esm).toBe('undefined function 1 false');
    const cjs = node(`import { createRequire } from 'node:module';
const core = createRequire(import.meta.url)(${JSON.stringify(join(dist, 'index.cjs'))});
const before = typeof Reflect.getMetadata;
${use}
console.log(before, typeof Reflect.getMetadata, c.prediction);`);
    expect(cjs).toBe('undefined function 1');
  });

  it('ships no copy of inversify in either build (it is a dependency, imported at createContainer)', () => {
    const files = (readdirSync(dist, { recursive: true }) as string[]).filter((f) => /\.(c?js)$/.test(f));
    expect(files).toEqual(expect.arrayContaining(['index.js', 'index.cjs', 'math.js', 'math.cjs', join('config', 'container.js')]));
    for (const f of files) {
      const text = readFileSync(join(dist, f), 'utf8');
      expect(text, f).not.toMatch(/@inversifyjs|reflect-metadata|class Container\b/);
    }
    expect(readFileSync(join(dist, 'config/container.js'), 'utf8')).toMatch(/await import\("inversify"\)/);
    expect(readFileSync(join(dist, 'index.cjs'), 'utf8')).toMatch(/require\("inversify"\)/);
  });

  it('the main entry and the math entry bundle for the browser without a Node built-in', async () => {
    for (const entry of ['@ablate/core', '@ablate/core/math']) {
      const { seen, inputs } = await bundle(`import * as m from '${entry}'; console.log(m);`, false);
      expect(seen, entry).toEqual([]);
      expect(inputs.some((i) => i.includes('packages/core/dist/') || i.includes('@ablate/core/dist/'))).toBe(true);
    }
  });
});

describe('the built classes', () => {
  it('error classes keep their names (errors report them as `name`; instanceof across copies matches by name), in both formats', () => {
    const out = node(`import { createRequire } from 'node:module';
const esm = await import(${JSON.stringify(join(dist, 'index.js'))});
const cjs = createRequire(import.meta.url)(${JSON.stringify(join(dist, 'index.cjs'))});
const wrong = [];
for (const m of [esm, cjs]) for (const [k, v] of Object.entries(m)) if (typeof v === 'function' && v.prototype instanceof Error && v.name !== k) wrong.push(k + ' is ' + v.name);
const errors = Object.keys(esm).filter((k) => typeof esm[k] === 'function' && esm[k].prototype instanceof Error);
console.log(errors.length >= 5, JSON.stringify(wrong), new esm.ConfigError([{ path: '/x', message: 'm' }]).name, new cjs.ArgumentError('a', 'b').name);`);
    expect(out).toBe('true [] ConfigError ArgumentError');
  });
});

describe('@ablate/core/node', () => {
  it('the Node-only entry refuses a device with the main entry\'s AblateError class (ESM and CommonJS), and neither browser entry reaches it', async () => {
    const out = node(`import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const codes = [];
for (const [n, core] of [[await import('@ablate/core/node'), await import('@ablate/core')], [require('@ablate/core/node'), require('@ablate/core')]]) {
  let e; try { await n.readModelFile('/dev/null', 'the model /dev/null'); } catch (x) { e = x; }
  codes.push(e.constructor === core.AblateError, e.code, e.message);
}
console.log(JSON.stringify(codes));`);
    const message = 'model: the model /dev/null is a device, not a regular file (give the path of a model file)';
    expect(JSON.parse(out)).toEqual([true, 'ABLATE_MODEL', message, true, 'ABLATE_MODEL', message]);
    for (const entry of ['@ablate/core', '@ablate/core/math']) {
      const { inputs } = await bundle(`import * as m from '${entry}'; console.log(m);`, false);
      expect(inputs.filter((i) => /read-model-file|dist\/node\./.test(i)), entry).toEqual([]);
    }
  });
});

describe('@ablate/core/math', () => {
  it('computes the same radius as the main entry and shares its error classes', () => {
    const out = node(`const m = await import('@ablate/core/math');
const registryBefore = typeof globalThis[Symbol.for('ablate.registry')];
const core = await import('@ablate/core');
const r = m.maxCertifiedRadius({ bound: m.ablationBound(784, 45), pLower: 0.9997 });
let e; try { m.ablationBound(784, 785); } catch (x) { e = x; }
console.log(r, m.ablationDelta(784, 45, 8).toFixed(5), e instanceof core.ArgumentError, e.code, m.ablationBound === core.ablationBound, registryBefore, typeof globalThis[Symbol.for('ablate.registry')]);`);
    expect(out).toBe('11 0.37816 true ABLATE_ARGUMENT true undefined object');
  });

  it('tree-shakes to the modules used: Δ alone, or a bound and the radius search, take no @stdlib and stay small', async () => {
    for (const contents of [
      `import { ablationDelta } from '@ablate/core/math';\nconsole.log(ablationDelta(784, 45, 8).toFixed(5));\n`,
      `import { ablationBound, maxCertifiedRadius } from '@ablate/core/math';\nconsole.log(maxCertifiedRadius({ bound: ablationBound(784, 45), pLower: 0.9997 }));\n`,
    ]) {
      const { code, inputs } = await bundle(contents);
      expect(inputs.filter((i) => /@stdlib|pure-rand|ajv/.test(i))).toEqual([]);
      expect(code.length).toBeLessThan(50_000);
      expect(execFileSync(process.execPath, ['--input-type=module'], { input: code, encoding: 'utf8' }).trim()).toMatch(/^(0\.37816|11)$/);
    }
  });

  it('tree-shakes: a bundle of two functions has none of the engine, the registry, ajv or the perturbation classes', async () => {
    const { seen, code, inputs } = await bundle(`import { ablationBound, maxCertifiedRadius } from '@ablate/core/math';\nconsole.log(maxCertifiedRadius({ bound: ablationBound(784, 45), pLower: 0.9997 }));\n`);
    expect(seen).toEqual([]);
    expect(inputs.filter((i) => /ajv|inversify|reflect-metadata/.test(i))).toEqual([]);
    expect(['AblationPerturbation', 'SmoothedClassifier', 'ablate.registry', 'PluginRegistry'].filter((s) => code.includes(s))).toEqual([]);
    // and it runs: the bundle prints the radius of the main entry
    expect(execFileSync(process.execPath, ['--input-type=module'], { input: code, encoding: 'utf8' }).trim()).toBe('11');
  });
});
