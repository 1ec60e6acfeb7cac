import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ablationBound, maxCertifiedRadius, PerturbedBatch, Rng } from '@ablate/core';
import { BlockAblation } from '../src/block-ablation.js';
import { certifyWithBothCertifiers } from '../src/main.js';

const dir = resolve(__dirname, '..');
const root = resolve(dir, '../..');
/** The ablate CLI with TypeScript plug-ins loadable (tsx), run in the example's folder. */
const ablate = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'packages/cli/dist/bin.js'), ...args], { cwd: dir, encoding: 'utf8' });

describe('examples/custom-perturbation', () => {
  it('samples exactly one w×w block per sample', () => {
    const pert = new BlockAblation({ block: 5 });
    const batch = new PerturbedBatch([1, 28, 28], 20);
    pert.sample(new Float32Array(784).fill(1), [1, 28, 28], new Rng(1), batch, 20);
    for (let s = 0; s < 20; s++) expect(batch.kept.subarray(s * 784, (s + 1) * 784).reduce((a, b) => a + b, 0)).toBe(25);
  });

  it('its bound is the union bound ρ·w²/d', () => {
    const bound = new BlockAblation({ block: 5 }).bound([1, 28, 28]);
    expect(bound.lower(0.9, 3)).toBeCloseTo(0.9 - (3 * 25) / 784, 12);
    expect(bound.lower(0.9, 3)).toBeLessThanOrEqual(0.9 - (3 * 25) / 784);
    // with pA_lower ≥ 0.9997: largest ρ with 0.9997 − 25ρ/784 > ½ is 15
    expect(maxCertifiedRadius({ bound, pLower: 0.9997 })).toBe(15);
    // for comparison: pixel ablation with the same 25 retained pixels has the exact Δ of Theorem 1, which beats
    // this union bound against scattered L0 changes (blocks pay off against contiguous patches instead)
    expect(maxCertifiedRadius({ bound: ablationBound(784, 25), pLower: 0.9997 })).toBeGreaterThan(15);
  });

  it('is certified by both certifiers through createContainer', async () => {
    const { cohen, lecuyer } = await certifyWithBothCertifiers({ n0: 50, n: 2000 });
    expect(cohen!.prediction).toBe(1);
    expect(lecuyer!.prediction).toBe(1);
    expect(cohen!.radius).toBeGreaterThanOrEqual(1);
    expect(lecuyer!.method).toMatch(/Bonferroni/);
    expect(cohen!.unit).toBe('pixels');
  });

  it("is validated by an editor's $schema: the per-plug-in schema from `ablate --plugin … schema` is up to date", () => {
    const r = ablate(['--plugin', './src/block-ablation.ts', 'schema']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(dir, 'ablate.schema.json'), 'utf8'));
    type Validate = ((d: unknown) => boolean) & { errors?: unknown };
    const { Ajv } = createRequire(join(root, 'packages/core/package.json'))('ajv') as { Ajv: new (o: object) => { compile(s: object): Validate } };
    const validate = new Ajv({ strict: false, allErrors: true }).compile(JSON.parse(r.stdout));
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config.$schema).toBe('./ablate.schema.json');
    expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
    // the plug-in's own options are checked, as at run time
    expect(validate({ ...config, perturbation: { type: 'block-ablation', block: 0 } })).toBe(false);
    expect(validate({ ...config, perturbation: { type: 'block-ablation', blok: 5 } })).toBe(false);
    expect(validate({ ...config, perturbation: { type: 'block-ablation' } })).toBe(false);
  });

  it('runs from the CLI: the config names the plug-in in "plugins"', () => {
    const r = ablate(['certify', '--config', 'config.json', '--count', '2', '--n0', '20', '--n', '100']);
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => x.index)).toEqual([0, 1]);
    for (const x of rows) expect(x.n).toBe(100);
  });
});
