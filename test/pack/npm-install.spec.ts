import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `pnpm test:pack` (vitest.pack.config.ts; .ci/run calls it): every publishable package packed with `pnpm pack`,
// installed with plain npm into a fresh app outside the workspace — core + onnx + web + datasets + cli, without tfjs —
// and used the way a downstream user would: the README example from ESM, a plug-in registered from CommonJS, the
// installed `ablate` with --plugin, a strict type-check (skipLibCheck: false). Offline-capable: npm prefers its
// cache, and onnxruntime-node's postinstall (CUDA download) is skipped with ONNXRUNTIME_NODE_INSTALL=skip.
const root = resolve(__dirname, '../..');
/** The oldest TypeScript the packages' declarations support (package.json: peerDependencies.typescript). */
const TS_MINIMUM = '5.0.4';
/** And the newest ones tested: the workspace's 5.x and the current major. */
const TS_CURRENT = ['5.9.3', '7.0.2'];
const PACKAGES = ['core', 'backend-onnx', 'backend-tfjs', 'backend-web', 'datasets', 'cli'] as const;
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
  app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'downstream-app', private: true, version: '1.0.0' }, null, 2));
  // The README's one command (`pnpm pack:all --into <app>`, less its build): backend-tfjs packed only, the other
  // five packed and installed into the app. Each `@ablate/<pkg> <tarball>` line names a tarball.
  const packAll = (args: string[]) => shAsync(process.execPath, [join(root, 'scripts/pack-all.mjs'), '--out', join(dir, 'tarballs'), ...args], root);
  const lines = `${await packAll(['backend-tfjs'])}\n${await packAll(['--into', app, 'core', 'backend-onnx', 'backend-web', 'datasets', 'cli'])}`;
  for (const [, pkg, file] of lines.matchAll(/^@ablate\/(\S+) (\S+\.tgz)$/gm)) tarballs[pkg!] = file!;
  expect(Object.keys(tarballs).sort()).toEqual([...PACKAGES].sort());
  await shAsync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '@types/node@20', 'typescript@5.9.3']);
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
    // core: only the module that creates the process-wide registry has a side effect (ESM: one file per module;
    // CommonJS: the index, the math entry and their shared chunk have none). Every other package registers its
    // plug-ins on import.
    const sideEffects = pkg === 'core' ? ['./dist/config/container.js', './dist/index.cjs'] : true;
    expect(m).toMatchObject({ license: 'MIT', engines: { node: '>=20.19' }, sideEffects, repository: { type: 'git', directory: `packages/${pkg}` } });
    // the declared minimum TypeScript (tested below), optional: JavaScript users need none
    expect(m.peerDependencies.typescript).toBe(`>=${TS_MINIMUM.replace(/\.\d+$/, '')}`);
    expect(m.peerDependenciesMeta.typescript).toEqual({ optional: true });
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

  it('@ablate/backend-tfjs depends on tfjs-core, -converter and -layers, not all of TensorFlow.js; its backends are optional peers', () => {
    const m = manifest('backend-tfjs');
    expect(Object.keys(m.dependencies).sort()).toEqual(['@tensorflow/tfjs-converter', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']);
    for (const peer of ['@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
      expect(m.peerDependencies[peer], peer).toBe(m.dependencies['@tensorflow/tfjs-core']);
      expect(m.peerDependenciesMeta[peer], peer).toEqual({ optional: true });
    }
  });

  it('@ablate/core ships the math and node entries in both formats, with their declarations (also for node10 through typesVersions)', () => {
    const files = sh('tar', ['-tzf', tarballs.core!], dir).split('\n');
    for (const e of ['math', 'node']) for (const f of [`${e}.js`, `${e}.cjs`, `${e}.d.ts`, `${e}.d.cts`]) expect(files).toContain(`package/dist/${f}`);
    const m = manifest('core');
    for (const e of ['math', 'node']) expect(m.exports[`./${e}`]).toEqual({ import: { types: `./dist/${e}.d.ts`, default: `./dist/${e}.js` }, require: { types: `./dist/${e}.d.cts`, default: `./dist/${e}.cjs` } });
    expect(m.typesVersions).toEqual({ '*': { math: ['./dist/math.d.ts'], node: ['./dist/node.d.ts'] } });
    expect(Object.keys(m.dependencies)).toContain('inversify');
  });

  it('@ablate/cli lists the backends as optional peers, not dependencies', () => {
    const m = manifest('cli');
    expect(Object.keys(m.dependencies)).not.toContain('@ablate/backend-onnx');
    expect(Object.keys(m.dependencies)).not.toContain('@ablate/backend-tfjs');
    expect(m.peerDependenciesMeta).toMatchObject({ '@ablate/backend-onnx': { optional: true }, '@ablate/backend-tfjs': { optional: true }, '@ablate/backend-web': { optional: true } });
    expect(Object.keys(m.dependencies)).not.toContain('@ablate/backend-web');
  });

  it('@ablate/backend-web: ESM, CommonJS and types for both, onnxruntime-web its only dependency', () => {
    const files = sh('tar', ['-tzf', tarballs['backend-web']!], dir).split('\n');
    for (const f of ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts']) expect(files).toContain(`package/dist/${f}`);
    const m = manifest('backend-web');
    expect(m.exports['.']).toEqual({ import: { types: './dist/index.d.ts', default: './dist/index.js' }, require: { types: './dist/index.d.cts', default: './dist/index.cjs' } });
    expect(Object.keys(m.dependencies)).toEqual(['onnxruntime-web']);
  });
});

describe('a fresh npm app with core + onnx + web + datasets + cli (no tfjs)', () => {
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

describe('@ablate/backend-web in the same app: the `onnx-web` type from ESM, CommonJS and the installed CLI', () => {
  // MNIST test image 0 through { classifier: { type: 'onnx-web', model } } must give exactly the certificate of
  // { type: 'onnx' } (the repository's parity test: the wasm kernels give the same class for every ablated sample).
  const script = (kind: 'esm' | 'cjs') => `${
    kind === 'esm'
      ? "import { createContainer, registry } from '@ablate/core';\nimport '@ablate/backend-onnx';\nimport * as web from '@ablate/backend-web';\nimport '@ablate/datasets';\n"
      : "const { createContainer, registry } = require('@ablate/core');\nrequire('@ablate/backend-onnx');\nconst web = require('@ablate/backend-web');\nrequire('@ablate/datasets');\n"
  }${kind === 'esm' ? '' : '(async () => {\n'}const run = async (classifier) => {
  const rt = await createContainer({ dataset: { type: 'mnist', split: 'test' }, perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, classifier, certifier: { type: 'cohen', alpha: 0.05, n0: 100, n: 1000 }, seed: 5 });
  try {
    const cert = await rt.smoothed.certify(rt.dataset.get(0).image, { index: 0 });
    return { cert, label: rt.dataset.get(0).label, classifier: [rt.classifier.type, rt.classifier.executionProvider, rt.classifier instanceof web.WebOnnxClassifier] };
  } finally {
    await rt.dispose();
  }
};
const web_ = await run({ type: 'onnx-web', model: 'mnist-k45-multichannel.onnx', batchSize: 550 });
const onnx = await run({ type: 'onnx', model: 'mnist-k45-multichannel.onnx', batchSize: 550 });
console.log(JSON.stringify({ web: web_, onnx, registered: registry.get('classifier', 'onnx-web') === web.webOnnxPlugin }));
${kind === 'esm' ? '' : '})();\n'}`;
  const check = (printed: string) => {
    const { web, onnx, registered } = JSON.parse(printed);
    expect(registered).toBe(true); // one registry: the package's plug-in object is the one createContainer used
    expect(web.classifier).toEqual(['onnx-web', 'wasm', true]);
    expect(onnx.classifier).toEqual(['onnx', 'cpu', false]);
    expect(onnx.label).toBe(7);
    expect(onnx.cert).toMatchObject({ prediction: 7, n: 1000 });
    expect(onnx.cert.radius).toBeGreaterThan(0);
    expect(web.cert).toEqual(onnx.cert);
  };

  it('installed onnxruntime-web beside one @ablate/core', () => {
    expect(existsSync(join(app, 'node_modules/onnxruntime-web/package.json'))).toBe(true);
    expect(sh('find', ['node_modules', '-path', '*/@ablate/core/package.json']).trim().split('\n')).toEqual(['node_modules/@ablate/core/package.json']);
  });

  it('ESM: certifies MNIST test image 0 exactly as the onnx backend does', () => {
    writeFileSync(join(app, 'onnx-web.mjs'), script('esm'));
    check(node('onnx-web.mjs'));
  });

  it('CommonJS: certifies MNIST test image 0 exactly as the onnx backend does', () => {
    writeFileSync(join(app, 'onnx-web.cjs'), script('cjs'));
    check(node('onnx-web.cjs'));
  });

  it('the installed `ablate certify` loads @ablate/backend-web for a config naming onnx-web (no --plugin), same rows as onnx', () => {
    const config = { $schema: './node_modules/@ablate/cli/ablate.schema.json', dataset: { type: 'mnist' }, perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, certifier: { type: 'cohen', n0: 50, n: 200 }, seed: 2 };
    writeFileSync(join(app, 'config-web.json'), JSON.stringify({ ...config, classifier: { type: 'onnx-web', model: 'mnist-k45-multichannel.onnx' } }));
    writeFileSync(join(app, 'config-onnx.json'), JSON.stringify({ ...config, classifier: { type: 'onnx', model: 'mnist-k45-multichannel.onnx' } }));
    const web = ablate(['certify', '--config', 'config-web.json', '--count', '2']);
    expect(web.stderr).not.toMatch(/ablate:/);
    expect(web.status).toBe(0);
    const onnx = ablate(['certify', '--config', 'config-onnx.json', '--count', '2']);
    expect(onnx.status).toBe(0);
    const strip = ({ seconds: _s, ...r }: Record<string, unknown>) => r;
    const rows = (out: string) => out.trim().split('\n').map((l) => strip(JSON.parse(l)));
    expect(rows(web.stdout).map((r) => [r.index, r.label, r.n])).toEqual([
      [0, 7, 200],
      [1, 2, 200],
    ]);
    expect(rows(web.stdout)).toEqual(rows(onnx.stdout));
    // the shipped schema lists onnx-web with its options
    const schema = JSON.parse(readFileSync(join(app, 'node_modules/@ablate/cli/ablate.schema.json'), 'utf8'));
    expect(schema.properties.classifier.properties.type.anyOf).toContainEqual(expect.objectContaining({ const: 'onnx-web' }));
  });
});

describe('types in every module mode, on the minimum and the current TypeScript (tsc --strict --skipLibCheck false)', () => {
  // An ESM app ("type": "module") and a CommonJS app (no "type") inside the npm app, so that both resolve the
  // installed packages; each compiles the same file under moduleResolution node16, nodenext, bundler and node10 —
  // a third-party plug-in declared by module augmentation, the typed config, the math and node entries, every package.
  const use = `import { AblationPerturbation, createContainer, definePlugin, maxCertifiedRadius, type AblateConfig, type AblateRuntime, type Certificate } from '@ablate/core';
import { ablationBound, clopperPearsonLower } from '@ablate/core/math';
import { fileKind, MAX_MODEL_FILE_BYTES, readModelFile } from '@ablate/core/node';
import { onnxPlugin, type ExecutionProviderName } from '@ablate/backend-onnx';
import { webOnnxPlugin, WebOnnxClassifier, type WebExecutionProviderName } from '@ablate/backend-web';
import { trainTfjs, type TfjsPluginOptions } from '@ablate/backend-tfjs';
import { loadMnist } from '@ablate/datasets';

declare module '@ablate/core' {
  interface PerturbationOptionsMap { thirds: { share?: number } }
}
export const thirds = definePlugin<'perturbation', { share?: number }>({
  kind: 'perturbation', type: 'thirds', description: 'd/3 kept', schema: {}, create: (o) => new AblationPerturbation({ retain: Math.round(784 * (o.share ?? 1 / 3)) }),
});
const providers: ExecutionProviderName[] = ['coreml', 'cpu'];
const config: AblateConfig = { perturbation: { type: 'thirds', share: 0.3 }, encoder: { type: 'multichannel' }, classifier: { type: 'onnx', model: 'm.onnx', executionProviders: providers }, certifier: { type: 'cohen', n: 100 } };
const webProviders: WebExecutionProviderName[] = ['webgpu', 'wasm'];
export const webConfig: AblateConfig = { ...config, classifier: { type: 'onnx-web', model: new Uint8Array(8), executionProviders: webProviders, numThreads: 1 } };
export const openWeb = (): Promise<WebOnnxClassifier> => WebOnnxClassifier.create({ model: 'm.onnx', executionProviders: webProviders });
export const radius: number | null = maxCertifiedRadius({ bound: ablationBound(784, 45), pLower: clopperPearsonLower(99, 100, 0.001) });
export const certify = async (): Promise<Certificate> => {
  const rt: AblateRuntime = await createContainer(config, { plugins: [thirds] });
  return rt.smoothed.certify({ data: new Float32Array(784), shape: [1, 28, 28] });
};
export const tfjs: TfjsPluginOptions = { model: 'm', backends: ['wasm'] };
export const modelBytes: Promise<Buffer> = readModelFile('m.onnx', 'the model m.onnx');
export const kind = (s: Parameters<typeof fileKind>[0]): string => fileKind(s);
export const cap: number = MAX_MODEL_FILE_BYTES;
export { onnxPlugin, webOnnxPlugin, trainTfjs, loadMnist };
`;
  const bad = `import { createContainer } from '@ablate/core';\nimport { ablationBound } from '@ablate/core/math';\nablationBound('784', 45);\nvoid createContainer({ perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, classifier: { type: 'onnx', model: 'm', executionProviders: ['gpu'] }, certifier: { type: 'cohen' } });\nvoid createContainer({ perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, classifier: { type: 'onnx-web', model: 'm', executionProviders: ['cuda'] }, certifier: { type: 'cohen' } });\nimport '@ablate/backend-onnx';\nimport '@ablate/backend-web';\n`;
  const tsc = (version: string) => join(dir, `ts-${version}`, 'node_modules/typescript/bin/tsc');
  // One tsconfig per case (TypeScript 7 refuses files on the command line when a tsconfig.json is in sight).
  const compile = (version: string, kind: string, resolution: string, file: string) => {
    const module = resolution === 'bundler' ? 'esnext' : resolution === 'node10' ? 'commonjs' : resolution;
    const project = join(app, `types-${kind}`, `tsconfig.${resolution}.${file}.json`);
    const compilerOptions = { noEmit: true, strict: true, skipLibCheck: false, target: 'es2022', types: ['node'], module, moduleResolution: resolution };
    writeFileSync(project, JSON.stringify({ compilerOptions, files: [file] }));
    return promisify(execFile)(process.execPath, [tsc(version), '-p', project], { cwd: join(app, `types-${kind}`), env, encoding: 'utf8' }).then(
      (r) => ({ status: 0, stdout: r.stdout + r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ status: e.code ?? 1, stdout: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
    );
  };

  beforeAll(async () => {
    const tf = join(app, 'node_modules/@ablate/backend-tfjs');
    if (!existsSync(tf)) {
      // backend-tfjs's declarations without its dependencies (they must not need @tensorflow's), as above
      mkdirSync(tf);
      sh('tar', ['-xzf', tarballs['backend-tfjs']!, '-C', tf, '--strip-components=1'], dir);
    }
    for (const [kind, type] of [['esm', { type: 'module' }], ['cjs', {}]] as const) {
      mkdirSync(join(app, `types-${kind}`), { recursive: true });
      writeFileSync(join(app, `types-${kind}`, 'package.json'), JSON.stringify({ name: `types-${kind}`, private: true, ...type }));
      writeFileSync(join(app, `types-${kind}`, 'use.ts'), use);
      writeFileSync(join(app, `types-${kind}`, 'bad.ts'), bad);
    }
    for (const version of [TS_MINIMUM, ...TS_CURRENT]) {
      mkdirSync(join(dir, `ts-${version}`));
      writeFileSync(join(dir, `ts-${version}`, 'package.json'), '{"private":true}');
      await shAsync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `typescript@${version}`], join(dir, `ts-${version}`));
    }
  }, 600_000);

  const RESOLUTIONS = ['node16', 'nodenext', 'bundler', 'node10'] as const;
  const cases = [TS_MINIMUM, ...TS_CURRENT].flatMap((version) =>
    (['esm', 'cjs'] as const).flatMap((kind) =>
      // moduleResolution node10 is removed in TypeScript 7 (TS5108); it is covered on 5.x
      RESOLUTIONS.filter((r) => !(r === 'node10' && Number(version.split('.')[0]) >= 7)).map((resolution) => [version, kind, resolution] as const),
    ),
  );

  it.each(cases)('TypeScript %s, %s app, moduleResolution %s: green', async (version, kind, resolution) => {
    expect(await compile(version, kind, resolution, 'use.ts')).toEqual({ status: 0, stdout: '' });
  });

  it.each([TS_MINIMUM, ...TS_CURRENT])('TypeScript %s: the types have teeth in a CommonJS app (node16)', async (version) => {
    const r = await compile(version, 'cjs', 'node16', 'bad.ts');
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/bad\.ts\(3,\d+\): error TS2345/); // ablationBound('784', …)
    expect(r.stdout).toMatch(/bad\.ts\(4,\d+\): error TS2322: Type '"gpu"' is not assignable/);
    expect(r.stdout).toMatch(/bad\.ts\(5,\d+\): error TS2322: [^\n]*"onnx-web"[\s\S]*Type '"cuda"' is not assignable to type '("webgpu" \| "wasm"|"wasm" \| "webgpu")'/); // onnx-web: webgpu or wasm (TypeScript 7 orders the union the other way)
  });
});

describe('an npm app with core + backend-onnx + backend-tfjs (TensorFlow.js in parts, backends as optional peers)', () => {
  let tfApp: string;
  beforeAll(async () => {
    tfApp = join(dir, 'app-tfjs');
    mkdirSync(tfApp);
    writeFileSync(join(tfApp, 'package.json'), JSON.stringify({ name: 'tfjs-app', private: true, version: '1.0.0', type: 'module' }));
    await shAsync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarballs.core!, tarballs['backend-onnx']!, tarballs['backend-tfjs']!], tfApp);
    copyFileSync(join(root, 'models/mnist-k45-multichannel.onnx'), join(tfApp, 'model.onnx'));
    mkdirSync(join(tfApp, 'model-tfjs'));
    for (const f of ['model.json', 'weights.bin']) copyFileSync(join(root, 'models/mnist-k45-multichannel-tfjs', f), join(tfApp, 'model-tfjs', f));
    // MNIST test image 0 (a 7), from the workspace's reader: the app has no dataset package
    const { loadMnist } = await import('@ablate/datasets');
    writeFileSync(join(tfApp, 'image.json'), JSON.stringify(Array.from(loadMnist('test').get(0).image.data)));
    writeFileSync(
      join(tfApp, 'certify.mjs'),
      `import { readFileSync } from 'node:fs';
import { createContainer } from '@ablate/core';
import '@ablate/backend-onnx';
import '@ablate/backend-tfjs';
const image = { data: Float32Array.from(JSON.parse(readFileSync('image.json', 'utf8'))), shape: [1, 28, 28] };
const run = async (classifier) => {
  const rt = await createContainer({ perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, classifier, certifier: { type: 'cohen', n0: 50, n: 300 }, seed: 3 });
  try {
    const c = await rt.smoothed.certify(image, { index: 0 });
    return { backend: rt.classifier.backend ?? rt.classifier.executionProvider, prediction: c.prediction, nA: c.nA, n: c.n, radius: c.radius };
  } finally {
    await rt.dispose();
  }
};
const tfjs = await run({ type: 'tfjs', model: 'model-tfjs', backends: ['wasm', 'cpu'] }).catch((e) => ({ code: e.code, path: e.issues?.[0]?.path, message: e.message }));
console.log(JSON.stringify({ tfjs, onnx: await run({ type: 'onnx', model: 'model.onnx' }) }));
`,
    );
  }, 600_000);

  it('installs tfjs-core, -converter and -layers only: no @tensorflow/tfjs, no WebGL backend, no tfjs-data', () => {
    expect(readdirSync(join(tfApp, 'node_modules/@tensorflow')).sort()).toEqual(['tfjs-converter', 'tfjs-core', 'tfjs-layers']);
  });

  it('with no backend installed, the config error names each missing backend package with its npm install line', () => {
    const { tfjs } = JSON.parse(sh(process.execPath, ['certify.mjs'], tfApp));
    expect(tfjs.code).toBe('ABLATE_CONFIG');
    expect(tfjs.path).toBe('/classifier/backends');
    expect(tfjs.message).toContain('@tensorflow/tfjs-backend-wasm is not installed (npm install @tensorflow/tfjs-backend-wasm)');
    expect(tfjs.message).toContain('@tensorflow/tfjs-backend-cpu is not installed (npm install @tensorflow/tfjs-backend-cpu)');
  });

  it('with @tensorflow/tfjs-backend-cpu installed, certifies on cpu exactly as ONNX Runtime does', async () => {
    const version = manifest('backend-tfjs').dependencies['@tensorflow/tfjs-core'];
    await shAsync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `@tensorflow/tfjs-backend-cpu@${version}`], tfApp);
    const { tfjs, onnx } = JSON.parse(sh(process.execPath, ['certify.mjs'], tfApp));
    expect(onnx).toMatchObject({ backend: 'cpu', prediction: 7, n: 300 });
    expect(tfjs).toEqual({ ...onnx, backend: 'cpu' });
  });
});

describe('an app that cancels, watches and iterates over the installed packages (ESM and CommonJS)', () => {
  // The app's run: an n = 100 000 certify cancelled from a timer (within one batch, coded error, runtime usable
  // and deterministic afterwards), progress, `await using` (TypeScript, compiled by tsc) or Symbol.asyncDispose
  // (CommonJS), and the dataset iterator, whose rows the installed `ablate certify` must write too.
  const body = (dispose: 'using' | 'manual') => `
const config = JSON.parse(readFileSync('runs-config.json', 'utf8'));
const out = { abort: null as unknown, extra: -1, planned: 0, disposed: '', progress: [] as unknown[], rows: [] as unknown[], many: [] as unknown[] };
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
  const many = await createContainer({ ...config, imagesInFlight: 2 });
  for await (const row of many.certifyAll({ start: 0, count: 2, done: [1] })) out.many.push(row);
  await many.dispose();
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
    // imagesInFlight 2: the same rows
    expect(out.many.map(strip)).toEqual(out.rows.map(strip));
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
