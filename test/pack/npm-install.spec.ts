import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `pnpm test:pack` (vitest.pack.config.ts; .ci/run calls it): every publishable package packed with `pnpm pack`,
// installed with plain npm into a fresh app outside the workspace — core + onnx + datasets + cli, without tfjs —
// and used the way a downstream user would: the README example from ESM, a plug-in registered from CommonJS, the
// installed `ablate` with --plugin, a strict type-check (skipLibCheck: false). Offline-capable: npm prefers its
// cache, and onnxruntime-node's postinstall (CUDA download) is skipped with ONNXRUNTIME_NODE_INSTALL=skip.
const root = resolve(__dirname, '../..');
const PACKAGES = ['core', 'backend-onnx', 'backend-tfjs', 'datasets', 'cli'] as const;
// NODE_PATH is dropped: pnpm's .bin shims (vitest's included) point it at the workspace's node_modules/.pnpm, where
// every @ablate package and TensorFlow.js would be found — the app must see only what npm installed.
const { NODE_PATH: _workspaceModules, ...parentEnv } = process.env;
const env = { ...parentEnv, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
let dir: string;
let app: string;
const tarballs: Record<string, string> = {};

const sh = (cmd: string, args: string[], cwd = app) => execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: 'pipe', maxBuffer: 64 << 20 });
/** For the long steps (npm install, tsc): asynchronous, so the vitest worker keeps answering its runner. */
const shAsync = async (cmd: string, args: string[], cwd = app) => (await promisify(execFile)(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 })).stdout;
const tscAsync = (args: string[]) =>
  promisify(execFile)(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), ...args], { cwd: app, env, encoding: 'utf8' }).then(
    (r) => ({ status: 0, stdout: r.stdout + r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ status: e.code ?? 1, stdout: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
  );
const node = (file: string) => sh(process.execPath, [file]).trim();
const ablate = (args: string[]) => spawnSync(join(app, 'node_modules/.bin/ablate'), args, { cwd: app, env, encoding: 'utf8' });
const manifest = (pkg: string) => JSON.parse(sh('tar', ['-xzOf', tarballs[pkg]!, 'package/package.json'], dir));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ablate-npm-'));
  mkdirSync(join(dir, 'tarballs'));
  for (const pkg of PACKAGES) {
    const out = await shAsync('npx', ['-y', 'pnpm@12.4.2', 'pack', '--pack-destination', join(dir, 'tarballs')], join(root, 'packages', pkg));
    const file = out.trim().split('\n').pop()!.trim();
    tarballs[pkg] = file.startsWith('/') ? file : join(dir, 'tarballs', readdirSync(join(dir, 'tarballs')).find((f) => f.includes(pkg))!);
  }
  app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'downstream-app', private: true, version: '1.0.0' }, null, 2));
  const wanted = ['core', 'backend-onnx', 'datasets', 'cli'].map((p) => tarballs[p]!);
  await shAsync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...wanted, '@types/node@20', 'typescript@5.9.3']);
  copyFileSync(join(root, 'models/mnist-k45-multichannel.onnx'), join(app, 'mnist-k45-multichannel.onnx'));
}, 900_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the tarballs', () => {
  it.each(PACKAGES)('%s ships dist, README and LICENSE with complete metadata', (pkg) => {
    const files = sh('tar', ['-tzf', tarballs[pkg]!], dir).split('\n').filter(Boolean);
    expect(files).toContain('package/README.md');
    expect(files).toContain('package/LICENSE');
    expect(files.some((f) => f.startsWith('package/dist/'))).toBe(true);
    expect(files.filter((f) => /^package\/(src|test)\//.test(f))).toEqual([]);
    const m = manifest(pkg);
    expect(m).toMatchObject({ license: 'MIT', engines: { node: '>=20.19' }, sideEffects: true, repository: { type: 'git', directory: `packages/${pkg}` } });
    expect(JSON.stringify(m)).not.toContain('workspace:');
    if (pkg !== 'core') {
      expect(m.peerDependencies['@ablate/core']).toBe(`^${manifest('core').version}`);
      expect(m.dependencies?.['@ablate/core']).toBeUndefined();
    }
    const readme = sh('tar', ['-xzOf', tarballs[pkg]!, 'package/README.md'], dir);
    expect(readme).toMatch(new RegExp(`npm install .*@ablate/${pkg}`));
    expect(readme).toMatch(/```ts|```sh/);
    expect(readme).toMatch(/docs\//);
    expect(sh('tar', ['-xzOf', tarballs[pkg]!, 'package/LICENSE'], dir)).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
  });

  it('@ablate/cli lists the backends as optional peers, not dependencies', () => {
    const m = manifest('cli');
    expect(Object.keys(m.dependencies)).not.toContain('@ablate/backend-onnx');
    expect(Object.keys(m.dependencies)).not.toContain('@ablate/backend-tfjs');
    expect(m.peerDependenciesMeta).toMatchObject({ '@ablate/backend-onnx': { optional: true }, '@ablate/backend-tfjs': { optional: true } });
  });
});

describe('a fresh npm app with core + onnx + datasets + cli (no tfjs)', () => {
  it('has one @ablate/core and no TensorFlow.js', () => {
    expect(existsSync(join(app, 'node_modules/@ablate/backend-tfjs'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/@tensorflow'))).toBe(false);
    const cores = sh('find', ['node_modules', '-path', '*/@ablate/core/package.json']).trim().split('\n');
    expect(cores).toEqual(['node_modules/@ablate/core/package.json']);
  });

  it("runs @ablate/core's README example from ESM (compiled by tsc) and gets the README's certificate", async () => {
    const readme = readFileSync(join(root, 'packages/core/README.md'), 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    writeFileSync(join(app, 'readme.mts'), code);
    const compiled = await tscAsync(['--strict', '--skipLibCheck', 'false', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', 'readme.mts']);
    expect(compiled).toEqual({ status: 0, stdout: '' });
    expect(node('readme.mjs')).toBe('7 11');
  });

  it('uses a plug-in registered from CommonJS in an ESM app (one registry)', () => {
    writeFileSync(
      join(app, 'plugin.cjs'),
      `// a third-party plug-in module in CommonJS: registers on require (side effect) and exports it
const { registry, AblationPerturbation } = require('@ablate/core');
const plugin = { kind: 'perturbation', type: 'thirds', description: 'ablation keeping a third of the pixels', schema: { properties: {} }, create: () => new AblationPerturbation({ retain: 261 }) };
if (!registry.get('perturbation', 'thirds')) registry.register(plugin);
module.exports = { plugins: [plugin] };
`,
    );
    writeFileSync(
      join(app, 'esm-app.mjs'),
      `import { createRequire } from 'node:module';
import { createContainer, registry } from '@ablate/core';
import '@ablate/backend-onnx';
const require = createRequire(import.meta.url);
require('./plugin.cjs');
const cjs = require('@ablate/core');
const rt = await createContainer({ perturbation: { type: 'thirds' }, encoder: { type: 'multichannel' }, classifier: { type: 'onnx', model: 'mnist-k45-multichannel.onnx' }, certifier: { type: 'cohen', n0: 20, n: 100 } });
const c = await rt.smoothed.certify({ data: new Float32Array(784), shape: [1, 28, 28] });
await rt.dispose();
console.log(cjs.registry === registry, registry.types('perturbation').includes('thirds'), rt.perturbation.describe(), c.n);
`,
    );
    expect(node('esm-app.mjs')).toBe('true true ablation(k=261) 100');
  });

  it('runs the installed `ablate` with --plugin; a missing backend is exit 2 with its npm install line', () => {
    writeFileSync(
      join(app, 'config.json'),
      JSON.stringify({ $schema: './node_modules/@ablate/cli/ablate.schema.json', dataset: { type: 'mnist' }, perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, classifier: { type: 'onnx', model: 'mnist-k45-multichannel.onnx' }, certifier: { type: 'cohen', n0: 50, n: 200 } }),
    );
    const help = ablate(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--plugin <module>/);
    const r = ablate(['--plugin', './plugin.cjs', 'certify', '--config', 'config.json', '--perturbation', 'thirds', '--count', '2']);
    expect(r.stderr).not.toMatch(/ablate:/);
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => [x.index, x.label, x.n])).toEqual([
      [0, 7, 200],
      [1, 2, 200],
    ]);
    const tfjs = ablate(['certify', '--config', 'config.json', '--backend', 'tfjs', '--model', 'x', '--count', '1']);
    expect(tfjs.status).toBe(2);
    expect(tfjs.stderr).toMatch(/@ablate\/backend-tfjs is not installed \(npm install @ablate\/backend-tfjs\)/);
    const train = ablate(['train', '--out', 'model-out', '--count', '10', '--retain', '45']);
    expect(train.status).toBe(2);
    expect(train.stderr).toMatch(/npm install @ablate\/backend-tfjs/);
    // the schema shipped with the CLI validates the config through $schema
    expect(existsSync(join(app, 'node_modules/@ablate/cli/ablate.schema.json'))).toBe(true);
  });

  it('the SDK names the package of a known type that is not installed', () => {
    writeFileSync(
      join(app, 'sdk-hint.mjs'),
      `import { createContainer } from '@ablate/core';
import '@ablate/backend-onnx';
const e = await createContainer({ perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, classifier: { type: 'tfjs', model: 'm' }, certifier: { type: 'cohen' } }).catch((e) => e);
console.log(e.code, e.issues[0].path, /npm install @ablate\\/backend-tfjs/.test(e.message));
`,
    );
    expect(node('sdk-hint.mjs')).toBe('ABLATE_CONFIG /classifier/type true');
  });

  it('type-checks a TypeScript app with skipLibCheck: false (typed config, a third-party plug-in, every package incl. backend-tfjs’s declarations)', async () => {
    // backend-tfjs unpacked into the app without its dependencies: its declarations must not need @tensorflow's
    const tf = join(app, 'node_modules/@ablate/backend-tfjs');
    mkdirSync(tf);
    sh('tar', ['-xzf', tarballs['backend-tfjs']!, '-C', tf, '--strip-components=1'], dir);
    expect(readFileSync(join(tf, 'dist/index.d.ts'), 'utf8')).not.toMatch(/from ['"]@tensorflow/);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, skipLibCheck: false, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: ['node'] }, include: ['app.mts', 'app.cts'] }),
    );
    writeFileSync(
      join(app, 'app.mts'),
      `import { createContainer, definePlugin, AblationPerturbation, type AblateConfig } from '@ablate/core';
import '@ablate/backend-onnx';
import { loadMnist } from '@ablate/datasets';
import type { TfjsClassifierOptions, TfjsPluginOptions } from '@ablate/backend-tfjs';
import { main } from '@ablate/cli';

declare module '@ablate/core' {
  interface PerturbationOptionsMap { thirds: { share?: number } }
}
export const thirds = definePlugin<'perturbation', { share?: number }>({
  kind: 'perturbation', type: 'thirds', description: 'd/3 kept', schema: {}, create: (o) => new AblationPerturbation({ retain: Math.round(784 * (o.share ?? 1 / 3)) }),
});
const config: AblateConfig = {
  perturbation: { type: 'thirds', share: 0.3 },
  encoder: { type: 'multichannel' },
  classifier: { type: 'onnx', model: 'mnist-k45-multichannel.onnx', executionProviders: ['cpu'] },
  certifier: { type: 'cohen', n: 100 },
};
const rt = await createContainer(config, { plugins: [thirds] });
const tfjs: TfjsPluginOptions = { model: 'm', backends: ['wasm'] };
const t: TfjsClassifierOptions = { model: 'm' };
export { rt, tfjs, t, loadMnist, main };
`,
    );
    writeFileSync(join(app, 'app.cts'), `import core = require('@ablate/core');\nimport onnx = require('@ablate/backend-onnx');\nexport = [core.registry, onnx.onnxPlugin];\n`);
    expect(await tscAsync(['-p', 'tsconfig.json'])).toEqual({ status: 0, stdout: '' });
    // and the typed config has teeth: a wrong option type, an unknown type
    writeFileSync(join(app, 'app.mts'), `import { createContainer } from '@ablate/core';\nimport '@ablate/backend-onnx';\nawait createContainer({ perturbation: { type: 'ablation', retain: '45' }, encoder: { type: 'multichannel' }, classifier: { type: 'onnnx', model: 'm' }, certifier: { type: 'cohen' } });\n`);
    const bad = await tscAsync(['-p', 'tsconfig.json']);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/app\.mts\(3,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/); // retain: '45'
    expect(bad.stdout).toMatch(/Type '"onnnx"' is not assignable/);
  });
});

describe('an app that cancels, watches and iterates over the installed packages (ESM and CommonJS)', () => {
  // The app's run: an n = 100 000 certify cancelled from a timer (within one batch, coded error, runtime usable
  // and deterministic afterwards), progress, `await using` (TypeScript, compiled by tsc) or Symbol.asyncDispose
  // (CommonJS), and the dataset iterator, whose rows the installed `ablate certify` must write too.
  const body = (dispose: 'using' | 'manual') => `
const config = JSON.parse(readFileSync('runs-config.json', 'utf8'));
const out = { abort: null as unknown, extra: -1, planned: 0, disposed: '', progress: [] as unknown[], rows: [] as unknown[] };
let kept: any;
{
  ${dispose === 'using' ? 'await using rt' : 'const rt'} = await createContainer({ ...config, certifier: { type: 'cohen', alpha: 0.001, n0: 100, n: 100000 } });
  kept = rt;
  let classified = 0;
  let atAbort = -1;
  const classify = rt.classifier.classify.bind(rt.classifier);
  const controller = new AbortController();
  rt.classifier.classify = async (input: Float32Array, count: number, shape: readonly [number, number, number]) => {
    const o = await classify(input, count, shape);
    classified += count;
    if (classified === 1000) setTimeout(() => ((atAbort = classified), controller.abort()), 0);
    return o;
  };
  const x = rt.dataset!.get(0).image;
  const e = await rt.smoothed.certify(x, { index: 0, signal: controller.signal, onProgress: (p: { planned: number }) => void (out.planned = p.planned) }).catch((err: unknown) => err);
  out.abort = e instanceof AblateError ? [e.name, e.code] : String(e);
  out.extra = classified - atAbort;
  rt.classifier.classify = classify;
  const small = await createContainer(config);
  for await (const row of small.certifyAll({ start: 0, count: 2, done: [1], onProgress: (p: { index: number; image: { stage: string; samples: number } }) => out.progress.push([p.index, p.image.stage, p.image.samples]) })) out.rows.push(row);
  await small.dispose();
  ${dispose === 'using' ? '' : 'await rt[Symbol.asyncDispose]();'}
}
out.disposed = await kept.smoothed.certify(kept.dataset.get(0).image).then(() => 'no', (err: { code?: string }) => err.code ?? 'raw');
console.log(JSON.stringify(out));
`;

  beforeAll(() => {
    writeFileSync(
      join(app, 'runs-config.json'),
      JSON.stringify({ dataset: { type: 'mnist' }, perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, classifier: { type: 'onnx', model: 'mnist-k45-multichannel.onnx', batchSize: 100 }, certifier: { type: 'cohen', n0: 50, n: 200 }, seed: 5 }),
    );
  });

  const check = (printed: string) => {
    const out = JSON.parse(printed);
    expect(out.abort).toEqual(['AbortError', 'ABORTED']);
    expect(out.extra).toBeGreaterThanOrEqual(0);
    expect(out.extra).toBeLessThanOrEqual(100); // one batch
    expect(out.planned).toBe(100_100);
    expect(out.disposed).toBe('ABLATE_DISPOSED');
    expect(out.progress).toEqual([
      [0, 'selection', 50],
      [0, 'estimation', 150],
      [0, 'estimation', 250],
    ]);
    const cli = ablate(['certify', '--config', 'runs-config.json', '--count', '1']);
    expect(cli.status).toBe(0);
    const strip = ({ seconds: _s, ...r }: Record<string, unknown>) => r;
    expect(out.rows.map(strip)).toEqual(cli.stdout.trim().split('\n').map((l) => strip(JSON.parse(l))));
  };

  it('ESM TypeScript with `await using` (tsc --strict, skipLibCheck false)', async () => {
    writeFileSync(join(app, 'runs.mts'), `import { readFileSync } from 'node:fs';\nimport { AblateError, createContainer } from '@ablate/core';\nimport '@ablate/backend-onnx';\nimport '@ablate/datasets';\n${body('using')}`);
    const compiled = await tscAsync(['--strict', '--skipLibCheck', 'false', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', 'runs.mts']);
    expect(compiled).toEqual({ status: 0, stdout: '' });
    check(node('runs.mjs'));
  });

  it('CommonJS (require), disposing through Symbol.asyncDispose', () => {
    const js = body('manual').replace(/ as unknown\[\]| as unknown|: any|: Float32Array|: number|: readonly \[number, number, number\]|: unknown|: \{ planned: number \}|: \{ index: number; image: \{ stage: string; samples: number \} \}|: \{ code\?: string \}/g, '').replace(/!\./g, '.');
    writeFileSync(join(app, 'runs.cjs'), `const { readFileSync } = require('node:fs');\nconst { AblateError, createContainer } = require('@ablate/core');\nrequire('@ablate/backend-onnx');\nrequire('@ablate/datasets');\n(async () => {${js}})();\n`);
    check(node('runs.cjs'));
  });
});
