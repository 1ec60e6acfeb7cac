import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Packs @ablate/core the way it is published, installs the tarball into a clean project outside the workspace,
// and uses it from ESM, from CommonJS and from TypeScript — as `npm install @ablate/core` users meet it.
const root = resolve(__dirname, '..');
const pnpm = ['-y', 'pnpm@12.4.2'];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ablate-pack-'));
  execFileSync('npx', [...pnpm, 'pack', '--pack-destination', dir], { cwd: join(root, 'packages/core'), stdio: 'pipe' });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `./${tarball}`], { cwd: dir, stdio: 'pipe' });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const node = (file: string) => execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8' }).trim();

describe('@ablate/core as an installed tarball', () => {
  it('ships only dist and its manifest, with no native dependency', () => {
    const pkg = JSON.parse(execFileSync(process.execPath, ['-p', 'JSON.stringify(require("@ablate/core/package.json"))'], { cwd: dir, encoding: 'utf8' }));
    expect(Object.keys(pkg.dependencies).some((d) => /onnx|tensorflow|node-gyp|bindings/.test(d))).toBe(false);
    const files = execFileSync('find', ['node_modules/@ablate/core', '-name', '*.node'], { cwd: dir, encoding: 'utf8' });
    expect(files.trim()).toBe('');
  });

  it('imports from ESM', () => {
    writeFileSync(join(dir, 'esm.mjs'), `import { ablationDelta, createContainer } from '@ablate/core';\nconsole.log(ablationDelta(784, 45, 8).toFixed(5), typeof createContainer);\n`);
    expect(node('esm.mjs')).toBe('0.37816 function');
  });

  it('requires from CommonJS (createContainer included: it loads the ESM-only inversify lazily, with require(esm))', () => {
    writeFileSync(
      join(dir, 'cjs.cjs'),
      `const core = require('@ablate/core');\ncore.createContainer({ perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, classifier: { type: 'c' }, certifier: { type: 'cohen' } }, { plugins: [{ kind: 'classifier', type: 'c', description: '', schema: {}, create: () => new core.FunctionClassifier({ numClasses: 2, predict: () => 1 }) }] })\n  .then((rt) => rt.smoothed.certify({ data: new Float32Array(784), shape: [1, 28, 28] }))\n  .then((c) => console.log(c.prediction, c.radius, core.ablationDelta(784, 45, 8).toFixed(5)));\n`,
    );
    expect(node('cjs.cjs')).toBe('1 11 0.37816');
  });

  it('type-checks a small use of the public API', () => {
    writeFileSync(
      join(dir, 'use.mts'),
      `import { maxCertifiedRadius, ablationBound, type Certificate, type Perturbation, AblationPerturbation } from '@ablate/core';\nconst r: number | null = maxCertifiedRadius({ bound: ablationBound(784, 45), pLower: 0.9997 });\nconst p: Perturbation = new AblationPerturbation({ retain: 45 });\nconst c: Pick<Certificate, 'radius'> = { radius: r };\nexport { p, c };\n`,
    );
    writeFileSync(
      join(dir, 'use.cts'),
      `import core = require('@ablate/core');\nconst r: number | null = core.maxCertifiedRadius({ bound: core.ablationBound(784, 45), pLower: 0.9997 });\nexport = r;\n`,
    );
    writeFileSync(join(dir, 'bad.mts'), `import { ablationBound } from '@ablate/core';\nablationBound('784', 45);\n`);
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(root, 'node_modules/@types')];
    execFileSync(process.execPath, [tsc, ...flags, 'use.mts', 'use.cts'], { cwd: dir, stdio: 'pipe' });
    // and the types have teeth: a wrong argument type is rejected
    expect(() => execFileSync(process.execPath, [tsc, ...flags, 'bad.mts'], { cwd: dir, stdio: 'pipe' })).toThrow();
  });
});
