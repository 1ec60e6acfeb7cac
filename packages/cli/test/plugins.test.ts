import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

  it('an unknown type lists every built-in type of the slot (lazily loaded backends too) and the --plugin modules’ types', () => {
    const hint = "third-party types are added with --plugin <module> (ablate CLI) or, in code, by importing the module that registers them or passing them in createContainer's { plugins }";
    const certifier = ablate(['certify', '--retain', '45', '--certifier', 'foo', ...small]);
    expect(certifier.code).toBe(2);
    expect(certifier.stderr).toBe(`ablate: invalid config:\n  /certifier/type: unknown certifier type "foo": the built-in certifier types are "cohen", "lecuyer", "sequential", "vote-gap"; ${hint}\n`);
    const backend = ablate(['certify', '--retain', '45', '--backend', 'foo', ...small]);
    expect(backend.stderr).toBe(`ablate: invalid config:\n  /classifier/type: unknown classifier type "foo": the built-in classifier types are "onnx", "tfjs"; ${hint}\n`);
    const withPlugin = ablate(['--plugin', './half.cjs', 'certify', '--perturbation', 'nope', ...small]);
    expect(withPlugin.stderr).toContain('unknown perturbation type "nope": the built-in perturbation types are "ablation", "band", "gaussian", "lee-noise", "partition" (also registered: "half-ablation"); ');
  });
});

describe('ablate schema', () => {
  it('the committed packages/cli/ablate.schema.json is what `ablate schema` generates (regenerate: pnpm ablate schema --out packages/cli/ablate.schema.json)', () => {
    const r = ablate(['schema'], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(root, 'packages/cli/ablate.schema.json'), 'utf8'));
    const schema = JSON.parse(r.stdout);
    const known = (slot: string) => schema.properties[slot].properties.type.anyOf.flatMap((b: { const?: string }) => (b.const ? [b.const] : []));
    expect(known('classifier')).toEqual(['onnx', 'tfjs']);
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
