import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Plug-in loading by the `ablate` command: --plugin (from the working directory) and the config's "plugins"
// (from the config file's folder), CommonJS modules that export plug-ins and ESM modules that register on import.
const root = resolve(__dirname, '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const model = join(root, 'models/mnist-k45-multichannel.onnx');
let proj: string;

function ablate(args: string[], cwd = proj) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const rows = (stdout: string) => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
const small = ['--n0', '20', '--n', '60', '--count', '1', '--model', model];

beforeAll(() => {
  proj = mkdtempSync(join(tmpdir(), 'ablate-plugins-'));
  // the app's node_modules: @ablate/core (for the plug-ins' require/import) and an installed plug-in package
  mkdirSync(join(proj, 'node_modules/@ablate'), { recursive: true });
  symlinkSync(join(root, 'packages/core'), join(proj, 'node_modules/@ablate/core'));
  // CommonJS, exporting its plug-ins: registered by the CLI (in the ESM core's registry: one registry per process)
  writeFileSync(
    join(proj, 'half.cjs'),
    `const { AblationPerturbation } = require('@ablate/core');
exports.plugins = [{ kind: 'perturbation', type: 'half-ablation', description: 'ablation keeping half of the pixels', schema: { properties: { share: { type: 'number', default: 0.5 } } },
  create: (o) => new AblationPerturbation({ retain: Math.round(784 * o.share) }) }];
`,
  );
  // an ESM package that registers its plug-in by side effect, resolved from the config's folder
  const pkg = join(proj, 'node_modules/ablate-plugin-demo');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'ablate-plugin-demo', type: 'module', exports: { '.': { import: './index.js' } }, sideEffects: true }));
  writeFileSync(
    join(pkg, 'index.js'),
    `import { registry, AblationPerturbation } from '@ablate/core';
registry.register({ kind: 'perturbation', type: 'tenth-ablation', description: 'keeps 78 pixels', schema: {}, create: () => new AblationPerturbation({ retain: 78 }) });
`,
  );
  writeFileSync(join(proj, 'nothing.mjs'), 'export const x = 1;\n');
  // the core README's form: a named export made with definePlugin, no `plugins`, no default, no register()
  writeFileSync(
    join(proj, 'named.mjs'),
    `import { AblationPerturbation, definePlugin, Type, withDefault } from '@ablate/core';
export const keepPlugin = definePlugin({ kind: 'perturbation', type: 'keep-k', description: 'ablation by another name',
  options: Type.Object({ keep: Type.Integer({ minimum: 1 }), levels: withDefault(Type.Integer({ minimum: 2 }), 256) }),
  create: (o) => new AblationPerturbation({ retain: o.keep }) });
export const answer = 42;
`,
  );
  // impostors of ablate's own types (issue 20 §2): an exported `onnx` (its package not loaded yet), an `mnist`
  // registered on import (with and without { replace: true }), and an exported built-in `cohen`
  writeFileSync(
    join(proj, 'shadow-onnx.mjs'),
    `import { FunctionClassifier } from '@ablate/core';
export const plugins = [{ kind: 'classifier', type: 'onnx', description: 'impostor', schema: { properties: { model: {} } }, create: () => new FunctionClassifier({ numClasses: 10, predict: () => 3 }) }];
`,
  );
  const mnistImpostor = (options: string) => `import { registry } from '@ablate/core';
registry.register({ kind: 'dataset', type: 'mnist', description: 'impostor', schema: { properties: { split: {} } }, create: () => { throw new Error('impostor used'); } }${options});
`;
  writeFileSync(join(proj, 'shadow-mnist.mjs'), mnistImpostor(''));
  writeFileSync(join(proj, 'shadow-mnist-replace.mjs'), mnistImpostor(', { replace: true }'));
  writeFileSync(join(proj, 'shadow-cohen.cjs'), `exports.plugins = [{ kind: 'certifier', type: 'cohen', description: 'impostor', schema: {}, create: () => ({}) }];\n`);
  mkdirSync(join(proj, 'cfg'));
  writeFileSync(
    join(proj, 'cfg/config.json'),
    JSON.stringify({ plugins: ['ablate-plugin-demo'], dataset: { type: 'mnist' }, perturbation: { type: 'tenth-ablation' }, encoder: { type: 'multichannel' }, classifier: { type: 'onnx', model }, certifier: { type: 'cohen' } }),
  );
});
afterAll(() => rmSync(proj, { recursive: true, force: true }));

describe('ablate --plugin / "plugins"', () => {
  it('--plugin loads a CommonJS module that exports plug-ins; its options are validated with defaults', () => {
    const r = ablate(['--plugin', './half.cjs', 'certify', '--perturbation', 'half-ablation', ...small]);
    expect(r.stderr).not.toMatch(/ablate:/);
    expect(r.code).toBe(0);
    const [row] = rows(r.stdout);
    expect(row).toMatchObject({ index: 0, label: 7, n: 60 });
    // the plug-in's option schema is part of validation (and --plugin works after the command too)
    writeFileSync(join(proj, 'bad.json'), JSON.stringify({ dataset: { type: 'mnist' }, perturbation: { type: 'half-ablation', share: 'x' }, encoder: { type: 'multichannel' }, classifier: { type: 'onnx', model }, certifier: { type: 'cohen' } }));
    const bad = ablate(['certify', '--plugin', './half.cjs', '--config', 'bad.json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/\/perturbation\/share: must be number/);
  });

  it('the config\'s "plugins" resolve from the config file\'s folder (an ESM package registering on import)', () => {
    const r = ablate(['certify', '--config', 'cfg/config.json', '--n0', '20', '--n', '60', '--count', '1'], proj);
    expect(r.stderr).not.toMatch(/ablate:/);
    expect(r.code).toBe(0);
    expect(rows(r.stdout)[0]).toMatchObject({ index: 0, n: 60 });
  });

  it('a missing module, or one that provides nothing, is a usage error (exit 2) saying what to do', () => {
    const missing = ablate(['--plugin', 'ablate-plugin-missing', 'certify', ...small]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--plugin: cannot find plug-in module "ablate-plugin-missing" .*npm install ablate-plugin-missing/);
    const empty = ablate(['--plugin', './nothing.mjs', 'certify', ...small]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/registered no plug-in and exports none/);
    const unknown = ablate(['certify', '--perturbation', 'nope', ...small]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      '/perturbation/type: unknown perturbation type "nope": the built-in perturbation types are "ablation", "band", "gaussian", "lee-noise", "partition"; third-party types are added with --plugin <module>',
    );
  });

  it('loads a module whose only plug-in is a named export made with definePlugin (the core README form)', () => {
    const viaNamed = ablate(['--plugin', './named.mjs', 'certify', '--perturbation', 'keep-k', '--set', 'perturbation.keep=45', ...small]);
    expect(viaNamed.stderr).not.toMatch(/registered no plug-in|unknown perturbation type/);
    expect(viaNamed.code).toBe(0);
    const builtin = ablate(['certify', '--retain', '45', ...small]);
    expect(builtin.code).toBe(0);
    const strip = ({ seconds: _s, ...r }: Record<string, unknown>) => r;
    expect(rows(viaNamed.stdout).map(strip)).toEqual(rows(builtin.stdout).map(strip));
    const schema = ablate(['--plugin', './named.mjs', 'schema']);
    expect(schema.code).toBe(0);
    expect(schema.stdout).toContain('"keep-k"');
  });

  it('an unknown type lists every built-in type of the slot (lazily loaded backends too) and the --plugin modules’ types', () => {
    const hint = "third-party types are added with --plugin <module> (ablate CLI) or, in code, by importing the module that registers them or passing them in createContainer's { plugins }";
    const certifier = ablate(['certify', '--retain', '45', '--certifier', 'foo', ...small]);
    expect(certifier.code).toBe(2);
    expect(certifier.stderr).toBe(`ablate: invalid config:\n  /certifier/type: unknown certifier type "foo": the built-in certifier types are "cohen", "lecuyer", "sequential", "vote-gap"; ${hint}\n`);
    const backend = ablate(['certify', '--retain', '45', '--backend', 'foo', ...small]);
    expect(backend.stderr).toBe(`ablate: invalid config:\n  /classifier/type: unknown classifier type "foo": the built-in classifier types are "onnx", "onnx-web", "tfjs"; ${hint}\n`);
    const withPlugin = ablate(['--plugin', './half.cjs', 'certify', '--perturbation', 'nope', ...small]);
    expect(withPlugin.stderr).toContain('unknown perturbation type "nope": the built-in perturbation types are "ablation", "band", "gaussian", "lee-noise", "partition" (also registered: "half-ablation"); ');
  });
});

describe('plug-ins cannot shadow ablate’s own types (issue 20 §2)', () => {
  const refused = (module: string, kind: string, type: string, owner: string, origin = '--plugin') =>
    `ablate: ${origin}: plug-in module "${module}" registers ${kind} type "${type}", which belongs to ${owner}: refused (a plug-in may not replace ablate's own types silently) (rename the plug-in's type, or pass --plugin-replace ${type} to replace it on purpose)\n`;

  it('an exported `onnx` (a lazily loaded first-party type) is refused, naming the type, the slot and the module', () => {
    const r = ablate(['--plugin', './shadow-onnx.mjs', 'certify', ...small]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(refused('./shadow-onnx.mjs', 'classifier', 'onnx', '@ablate/backend-onnx'));
  });

  it('`onnx-web` (@ablate/backend-web, not loaded yet) is reserved too: exported or registered with a claim to be its owner, refused', () => {
    writeFileSync(
      join(proj, 'shadow-onnx-web.mjs'),
      `import { FunctionClassifier } from '@ablate/core';
export const plugins = [{ kind: 'classifier', type: 'onnx-web', description: 'impostor', schema: { properties: { model: {} } }, create: () => new FunctionClassifier({ numClasses: 10, predict: () => 3 }) }];
`,
    );
    writeFileSync(
      join(proj, 'claim-onnx-web.mjs'),
      `import { registry, FunctionClassifier } from '@ablate/core';
registry.register({ kind: 'classifier', type: 'onnx-web', description: 'impostor', schema: { properties: { model: {} } }, create: () => new FunctionClassifier({ numClasses: 10, predict: () => 3 }) }, { provider: '@ablate/backend-web' });
`,
    );
    // (before: both ran, every row from the impostor's prediction 3; the claim even made the impostor the "owner")
    for (const module of ['./shadow-onnx-web.mjs', './claim-onnx-web.mjs']) {
      const r = ablate(['--plugin', module, 'certify', '--retain', '45', '--backend', 'onnx-web', ...small]);
      expect(r.stdout, module).toBe('');
      expect(r.code, module).toBe(2);
      expect(r.stderr).toBe(refused(module, 'classifier', 'onnx-web', '@ablate/backend-web'));
    }
  });

  it('`--backend onnx-web` loads @ablate/backend-web by itself (no --plugin) and certifies as `--backend onnx` does', () => {
    const web = ablate(['certify', '--retain', '45', '--backend', 'onnx-web', '--seed', '4', ...small]);
    expect(web.code, web.stderr).toBe(0);
    const onnx = ablate(['certify', '--retain', '45', '--backend', 'onnx', '--seed', '4', ...small]);
    expect(onnx.code, onnx.stderr).toBe(0);
    const strip = ({ seconds: _s, ...r }: Record<string, unknown>) => r;
    expect(rows(web.stdout)[0]).toMatchObject({ index: 0, label: 7, prediction: 7, n: 60 });
    expect(rows(web.stdout).map(strip)).toEqual(rows(onnx.stdout).map(strip));
  });

  it('`mnist` registered on import is refused, with or without { replace: true } in the module; a built-in `cohen` from the config’s plugins too', () => {
    const plain = ablate(['--plugin', './shadow-mnist.mjs', 'certify', ...small]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toBe(refused('./shadow-mnist.mjs', 'dataset', 'mnist', '@ablate/datasets'));
    const own = ablate(['--plugin', './shadow-mnist-replace.mjs', 'certify', ...small]);
    expect(own.code).toBe(2);
    expect(own.stderr).toBe(refused('./shadow-mnist-replace.mjs', 'dataset', 'mnist', '@ablate/datasets'));
    writeFileSync(join(proj, 'cfg/cohen.json'), JSON.stringify({ plugins: ['../shadow-cohen.cjs'], dataset: { type: 'mnist' }, perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, classifier: { type: 'onnx', model }, certifier: { type: 'cohen' } }));
    const cohen = ablate(['certify', '--config', 'cfg/cohen.json', '--count', '1']);
    expect(cohen.code).toBe(2);
    expect(cohen.stderr).toBe(refused('../shadow-cohen.cjs', 'certifier', 'cohen', '@ablate/core', '/plugins/0'));
  });

  it('--plugin-replace TYPE replaces on purpose and says which type was replaced by which module', () => {
    const r = ablate(['--plugin', './shadow-onnx.mjs', '--plugin-replace', 'onnx', 'certify', '--retain', '45', ...small]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('ablate: --plugin ./shadow-onnx.mjs replaces classifier type "onnx" of @ablate/backend-onnx\n');
    // the impostor answers 3 for every sample: the real model says 7 for MNIST test image 0
    expect(rows(r.stdout)[0]).toMatchObject({ index: 0, label: 7, prediction: 3, nA: 60 });
    // a module that registers on import must also pass { replace: true } itself
    const plain = ablate(['--plugin', './shadow-mnist.mjs', '--plugin-replace', 'mnist', 'certify', ...small]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/--plugin: plug-in module ".\/shadow-mnist.mjs" registers dataset type "mnist" \(which belongs to @ablate\/datasets\) without \{ replace: true \}/);
    const own = ablate(['--plugin', './shadow-mnist-replace.mjs', '--plugin-replace', 'mnist', 'certify', '--retain', '45', ...small]);
    expect(own.stderr).toContain('ablate: --plugin ./shadow-mnist-replace.mjs replaces dataset type "mnist" of @ablate/datasets\n');
    expect(own.stderr).toMatch(/impostor used/);
    // a type that is not ablate's own (a typo) is a usage error, not a silent no-op
    const typo = ablate(['--plugin', './shadow-onnx.mjs', '--plugin-replace', 'onxx', 'certify', '--retain', '45', ...small]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe(`ablate: --plugin-replace: "onxx" is not a type of ablate's own, so no plug-in needs leave to replace it (name a built-in or first-party type (e.g. onnx, mnist, cohen); other types need no flag)\n`);
  });

  it('every type ablate’s packages register is reserved before they load (KNOWN_PLUGIN_PACKAGES or a built-in)', () => {
    // every publishable package of the repository but core and the CLI (backend-web included: issue 22 item 1)
    const packages = readdirSync(join(root, 'packages'))
      .map((d) => JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')) as { name: string; private?: boolean })
      .filter((m) => !m.private && m.name !== '@ablate/core' && m.name !== '@ablate/cli')
      .map((m) => m.name)
      .sort();
    expect(packages).toEqual(['@ablate/backend-onnx', '@ablate/backend-tfjs', '@ablate/backend-web', '@ablate/datasets']);
    const script = `const core = await import('@ablate/core');
const owners = {};
for (const pkg of ${JSON.stringify(packages)}) {
  const known = new Set(core.registry.plugins());
  await import(pkg);
  for (const p of core.registry.plugins()) if (!known.has(p)) owners[p.kind + '/' + p.type] = [pkg, core.packageProviding(p.kind, p.type) ?? null, core.registry.replacedFirstParty(p.kind, p.type) ?? null];
}
for (const p of core.builtinPlugins) owners[p.kind + '/' + p.type] = ['@ablate/core', core.registry.firstPartyProvider(p.kind, p.type), core.registry.replacedFirstParty(p.kind, p.type) ?? null];
console.log(JSON.stringify(owners));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const owners = JSON.parse(r.stdout) as Record<string, [string, string | null, string | null]>;
    expect(Object.keys(owners)).toEqual(expect.arrayContaining(['classifier/onnx', 'classifier/onnx-web', 'classifier/tfjs', 'dataset/mnist', 'dataset/fashion-mnist', 'dataset/cifar10', 'dataset/image-folder', 'certifier/cohen']));
    for (const [key, [pkg, reservedFor, replaced]] of Object.entries(owners)) {
      expect(reservedFor, key).toBe(pkg); // reserved for the package that registers it
      expect(replaced, key).toBeNull(); // and registered by it (not an impostor)
    }
  });
});

describe('ablate schema', () => {
  it('the committed packages/cli/ablate.schema.json is what `ablate schema` generates (regenerate: pnpm ablate schema --out packages/cli/ablate.schema.json)', () => {
    const r = ablate(['schema'], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(root, 'packages/cli/ablate.schema.json'), 'utf8'));
    const schema = JSON.parse(r.stdout);
    const known = (slot: string) => schema.properties[slot].properties.type.anyOf.flatMap((b: { const?: string }) => (b.const ? [b.const] : []));
    expect(r.stderr).toBe(''); // every first-party package found: none left out of the schema
    expect(known('classifier')).toEqual(['onnx', 'onnx-web', 'tfjs']);
    expect(known('dataset')).toEqual(['cifar10', 'fashion-mnist', 'image-folder', 'mnist']);
  });

  it('lists --plugin types too', () => {
    const r = ablate(['--plugin', './half.cjs', 'schema']);
    expect(JSON.parse(r.stdout).properties.perturbation.properties.type.anyOf).toContainEqual(expect.objectContaining({ const: 'half-ablation' }));
  });

  it("the examples' configs name the schema with $schema and are valid against it", () => {
    // ajv as @ablate/core uses it (not a dependency of the CLI)
    const { Ajv } = createRequire(join(root, 'packages/core/package.json'))('ajv') as { Ajv: new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } } };
    const schema = JSON.parse(readFileSync(join(root, 'packages/cli/ablate.schema.json'), 'utf8'));
    const validate = new Ajv({ strict: false }).compile(schema);
    for (const file of ['examples/mnist-onnx/config.json', 'examples/swap-backend/config-onnx.json', 'examples/swap-backend/config-tfjs.json']) {
      const config = JSON.parse(readFileSync(join(root, file), 'utf8'));
      expect(resolve(dirname(join(root, file)), config.$schema)).toBe(join(root, 'packages/cli/ablate.schema.json'));
      expect(validate(config), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    expect(validate({ perturbation: { type: 'ablation' }, encoder: { type: 'multichannel' }, classifier: { type: 'onnx', model: 'm.onnx' }, certifier: { type: 'cohen' } })).toBe(false);
    expect(validate({ perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, classifier: { type: 'onnx', model: 'm.onnx' }, certifier: { type: 'cohen' } })).toBe(true);
  });
});

describe('hostile pass (issue 20 follow-up): a plug-in claiming to be the owner package', () => {
  const refused = (module: string, kind: string, type: string, owner: string) =>
    `ablate: --plugin: plug-in module "${module}" registers ${kind} type "${type}", which belongs to ${owner}: refused (a plug-in may not replace ablate's own types silently) (rename the plug-in's type, or pass --plugin-replace ${type} to replace it on purpose)\n`;

  it('registering `onnx` with { provider: "@ablate/backend-onnx" } before the backend loads is refused, not silently used', () => {
    writeFileSync(
      join(proj, 'claim-onnx.mjs'),
      `import { registry, FunctionClassifier } from '@ablate/core';
registry.register({ kind: 'classifier', type: 'onnx', description: 'impostor', schema: { properties: { model: {} } }, create: () => new FunctionClassifier({ numClasses: 10, predict: () => 3 }) }, { provider: '@ablate/backend-onnx' });
`,
    );
    const r = ablate(['--plugin', './claim-onnx.mjs', 'certify', '--retain', '45', ...small]);
    // (before: exit 0 and every row from the impostor, prediction 3, no word on stderr)
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(refused('./claim-onnx.mjs', 'classifier', 'onnx', '@ablate/backend-onnx'));
  });

  it('a built-in taken with { provider: "@ablate/core", replace: true } is refused too', () => {
    writeFileSync(
      join(proj, 'claim-cohen.mjs'),
      `import { registry } from '@ablate/core';
registry.register({ kind: 'certifier', type: 'cohen', description: 'impostor', schema: {}, create: () => { throw new Error('impostor used'); } }, { provider: '@ablate/core', replace: true });
`,
    );
    const r = ablate(['--plugin', './claim-cohen.mjs', 'certify', '--retain', '45', ...small]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(refused('./claim-cohen.mjs', 'certifier', 'cohen', '@ablate/core'));
  });

  it('a plug-in that imports the real backend itself (which registers onnx) and adds its own type is accepted', () => {
    mkdirSync(join(proj, 'node_modules/@ablate'), { recursive: true });
    try {
      symlinkSync(join(root, 'packages/backend-onnx'), join(proj, 'node_modules/@ablate/backend-onnx'));
    } catch {
      // already there
    }
    writeFileSync(
      join(proj, 'uses-onnx.mjs'),
      `import '@ablate/backend-onnx';
import { registry, AblationPerturbation } from '@ablate/core';
registry.register({ kind: 'perturbation', type: 'keep-45', description: 'retain 45', schema: {}, create: () => new AblationPerturbation({ retain: 45 }) });
`,
    );
    const r = ablate(['--plugin', './uses-onnx.mjs', 'certify', '--perturbation', 'keep-45', ...small]);
    expect(r.stderr).not.toMatch(/refused/);
    expect(r.code, r.stderr).toBe(0);
    expect(rows(r.stdout)[0]).toMatchObject({ index: 0, label: 7, prediction: 7 });
  });
});

describe('hostile pass (issue 20 follow-up): a module whose exports throw when read', () => {
  it('is a usage error naming --plugin and the module, not a bare message', () => {
    writeFileSync(join(proj, 'getter.cjs'), "Object.defineProperty(exports, 'plugins', { enumerable: true, get() { throw new Error('boom getter'); } });\n");
    const r = ablate(['--plugin', './getter.cjs', 'certify', ...small]);
    // (before: "ablate: boom getter", nothing saying which module or flag)
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('ablate: --plugin: plug-in module "./getter.cjs" failed to load: reading its exports threw boom getter\n');
  });
});
