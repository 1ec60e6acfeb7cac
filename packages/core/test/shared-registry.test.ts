import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreVersionsCompatible, packageProviding } from '../src/index.js';

// One plug-in registry per process: the built ESM and CommonJS files of @ablate/core, and a second copy of the
// package at another path (as a nested install would give), all share globalThis[Symbol.for('ablate.registry')].
const core = resolve(__dirname, '..');
let dir: string;
const copy = (version: string) => {
  const at = join(dir, `core-${version}`);
  cpSync(join(core, 'dist'), join(at, 'dist'), { recursive: true });
  // the version constant: dist/version.js in the ESM build (one file per module), inlined in index.cjs
  for (const f of ['version.js', 'index.cjs']) {
    const file = join(at, 'dist', f);
    const text = readFileSync(file, 'utf8');
    const changed = text.replace(/(var|const) CORE_VERSION = true \? "[^"]+"/, `$1 CORE_VERSION = true ? "${version}"`);
    if (changed === text) throw new Error(`no CORE_VERSION constant in ${file}`);
    writeFileSync(file, changed);
  }
  symlinkSync(join(core, 'node_modules'), join(at, 'node_modules'));
  return at;
};
const run = (source: string) => {
  const file = join(dir, `t${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, source);
  return execFileSync(process.execPath, [file], { encoding: 'utf8', stdio: 'pipe' }).trim();
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ablate-registry-'));
  copy('0.1.9');
  copy('0.2.0');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const prelude = `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const esm = await import(${JSON.stringify(join(core, 'dist/index.js'))});
const cjs = require(${JSON.stringify(join(core, 'dist/index.cjs'))});
const plugin = (type) => ({ kind: 'perturbation', type, description: '', schema: {}, create: () => new esm.AblationPerturbation({ retain: 3 }) });
`;

describe('the process-wide plug-in registry', () => {
  it('is one object for the ESM build, the CommonJS build and a compatible second copy', () => {
    const out = run(`${prelude}
const other = await import(${JSON.stringify(join(dir, 'core-0.1.9/dist/index.js'))});
cjs.registry.register(plugin('from-cjs'));
other.registry.register(plugin('from-copy'));
console.log(esm.registry === cjs.registry, esm.registry === other.registry, esm.registry.types('perturbation').join(','), esm.registry.types('encoder').join(','));
`);
    expect(out).toBe('true true ablation,band,from-cjs,from-copy,gaussian,lee-noise,partition identity,mean,multichannel');
  });

  it('refuses a copy with an incompatible version, naming both versions', () => {
    const source = `${prelude}
try { await import(${JSON.stringify(join(dir, 'core-0.2.0/dist/index.js'))}); console.log('loaded'); }
catch (e) { console.log(e.code, e.message.includes('@ablate/core 0.2.0'), e.message.includes('belongs to @ablate/core 0.1.'), e.message.includes('npm ls @ablate/core')); }
`;
    expect(run(source)).toBe('ABLATE_VERSION true true true');
  });

  it('recognizes errors of another copy with instanceof, by class', () => {
    const out = run(`${prelude}
const e = new cjs.ConfigError([{ path: '/x', message: 'bad' }]);
console.log(e instanceof esm.ConfigError, e instanceof esm.AblateError, e instanceof esm.ArgumentError, new esm.ModelError('m', 'x') instanceof cjs.ModelError, new Error('x') instanceof esm.AblateError);
`);
    expect(out).toBe('true true false true false');
  });

  it('a plug-in registered from CommonJS configures a container created from ESM, and its errors are re-anchored', () => {
    const out = run(`${prelude}
cjs.registry.register({ kind: 'perturbation', type: 'strict', description: '', schema: {}, create: () => { throw new cjs.ArgumentError('retain', 'too large'); } });
const config = (type) => ({ perturbation: { type }, encoder: { type: 'multichannel' }, classifier: { type: 'f' }, certifier: { type: 'cohen', n0: 10, n: 100 } });
const f = { kind: 'classifier', type: 'f', description: '', schema: {}, create: () => new esm.FunctionClassifier({ numClasses: 2, predict: () => 1 }) };
const rt = await esm.createContainer({ ...config('from-cjs') }, { plugins: [f] }).catch((e) => e);
cjs.registry.register(plugin('from-cjs'));
const ok = await esm.createContainer(config('from-cjs'), { plugins: [f] });
const c = await ok.smoothed.certify({ data: new Float32Array(9), shape: [1, 3, 3] });
const err = await esm.createContainer(config('strict'), { plugins: [f] }).catch((e) => e);
console.log(rt.code, c.prediction, err.constructor.name, err.issues[0].path);
`);
    expect(out).toBe('ABLATE_CONFIG 1 ConfigError /perturbation/retain');
  });
});

describe('coreVersionsCompatible (semver: same major, and same minor before 1.0)', () => {
  it.each([
    ['0.1.0', '0.1.5', true],
    ['0.1.0', '0.2.0', false],
    ['1.0.0', '1.4.2', true],
    ['1.9.0', '2.0.0', false],
    ['0.1.0-beta.1', '0.1.0', true],
  ])('%s vs %s → %s', (a, b, expected) => expect(coreVersionsCompatible(a, b)).toBe(expected));
});

describe('packageProviding', () => {
  it('names the package of a known type only', () => {
    expect(packageProviding('classifier', 'tfjs')).toBe('@ablate/backend-tfjs');
    expect(packageProviding('dataset', 'cifar10')).toBe('@ablate/datasets');
    expect(packageProviding('classifier', 'toString')).toBeUndefined();
    expect(packageProviding('perturbation', 'ablation')).toBeUndefined();
  });
});
