import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { effectiveConfig } from '../src/config.js';

// Issue 21 item 7: `ablate radius` and `ablate plan` take any registered perturbation with a bound (partition,
// band, a --plugin one), options from flags, --config or --set; `--set path=value` for fields without a flag.
const root = resolve(__dirname, '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const example = join(root, 'examples/custom-perturbation');

function ablate(args: string[], cwd = root, nodeArgs: string[] = []) {
  const r = spawnSync(process.execPath, [...nodeArgs, bin, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const json = (args: string[], cwd?: string, nodeArgs?: string[]) => {
  const r = ablate([...args, '--json'], cwd, nodeArgs);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};

describe('ablate radius / plan with any registered perturbation', () => {
  it('partition: Δ(ρ) = ρ/T (Hammoudeh & Lowd): pA 0.99, T = 39 certifies ρ < 0.49·39, i.e. 19', () => {
    const r = json(['radius', '--perturbation', 'partition', '--parts', '39', '--shape', '1,28,28', '--p-lower', '0.99']);
    expect(r).toMatchObject({ radius: 19, unit: 'pixels', perturbation: 'partition', options: { parts: 39, layout: 'stride' } });
    // one part more and 0.49·40 = 19.6 still gives 19; T = 41 gives 20.09 → 20
    expect(json(['radius', '--perturbation', 'partition', '--set', 'perturbation.parts=41', '--shape', '28,28', '--p-lower', '0.99']).radius).toBe(20);
  });

  it('band: a column band of width b meets m + b − 1 of the W bands: pA 0.99, b = 4, W = 28 gives m + 3 < 13.72, m = 10', () => {
    const r = json(['radius', '--perturbation', 'band', '--width', '4', '--shape', '1,28,28', '--p-lower', '0.99']);
    expect(r).toMatchObject({ radius: 10, perturbation: 'band', options: { width: 4, orientation: 'column' } });
    const plan = json(['plan', '--perturbation', 'band', '--width', '4', '--shape', '1,28,28', '--radius', '1', '--p-a', '0.99', '--simulations', '0']);
    expect(plan).toMatchObject({ perturbation: 'band', radius: 1 });
  });

  it('the perturbation of a --config, with --set overriding it; ablation from flags is unchanged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ablate-radius-'));
    const config = join(dir, 'c.json');
    writeFileSync(config, JSON.stringify({ perturbation: { type: 'ablation', retain: 20 }, encoder: { type: 'multichannel' }, classifier: { type: 'onnx', model: 'm.onnx' }, certifier: { type: 'cohen' } }));
    const byFlags = json(['radius', '--perturbation', 'ablation', '--d', '784', '--retain', '45', '--p-lower', '0.9997']);
    expect(byFlags.radius).toBe(11);
    expect(json(['radius', '--config', config, '--set', 'perturbation.retain=45', '--shape', '1,28,28', '--p-lower', '0.9997']).radius).toBe(11);
    expect(json(['radius', '--config', config, '--shape', '1,28,28', '--p-lower', '0.9997']).radius).toBeGreaterThan(11);
  });

  it('a third-party perturbation from --plugin (the custom-perturbation example, TypeScript through tsx)', () => {
    const r = json(['--plugin', './src/block-ablation.ts', 'radius', '--perturbation', 'block-ablation', '--set', 'perturbation.block=5', '--shape', '1,28,28', '--p-lower', '0.9997'], example, ['--import', 'tsx']);
    // the example's union bound: 0.9997 − 25ρ/784 > ½ up to ρ = 15
    expect(r).toMatchObject({ radius: 15, perturbation: 'block-ablation', options: { block: 5 } });
  });

  it('errors name the flag or the config path', () => {
    const cases: Array<[string[], RegExp]> = [
      [['radius', '--perturbation', 'partition', '--parts', '39', '--p-lower', '0.9'], /--shape: is required for --perturbation partition/],
      [['radius', '--perturbation', 'partition', '--shape', '1,28,28', '--p-lower', '0.9'], /\/perturbation\/parts: is required/],
      [['radius', '--perturbation', 'ablation', '--shape', '1,28,28', '--set', 'perturbation.retian=45', '--p-lower', '0.9'], /\/perturbation\/retian: is not a known option here \(allowed: type, retain\)/],
      [['radius', '--perturbation', 'nope', '--shape', '1,28,28', '--p-lower', '0.9'], /unknown perturbation type "nope"/],
      [['radius', '--perturbation', 'ablation', '--shape', '1,28,0', '--p-lower', '0.9'], /--shape: must be C,H,W/],
      [['radius', '--p-lower', '0.9'], /--perturbation: is required/],
      [['plan', '--perturbation', 'band', '--width', '4', '--shape', '1,28,28', '--curve', '4:0.9'], /--curve: is available for ablation, lee-noise and gaussian/],
    ];
    for (const [args, message] of cases) {
      const r = ablate(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('--set path=value', () => {
  it('sets fields that have no flag, JSON-parsed (strings as written), dotted or as a JSON pointer', () => {
    const { config } = effectiveConfig(undefined, {
      certifier: 'sequential',
      set: ['certifier.slack=0.5', '/certifier/targetRadius=3', 'perturbation.retain=45', 'encoder.normalize={"mean":[0.1],"std":[0.3]}', 'dataset.split=train', 'predict.sequential=true'],
    });
    expect(config.certifier).toEqual({ type: 'sequential', slack: 0.5, targetRadius: 3 });
    expect(config.perturbation).toEqual({ type: 'ablation', retain: 45 });
    expect(config.encoder).toEqual({ type: 'multichannel', normalize: { mean: [0.1], std: [0.3] } });
    expect(config.dataset).toEqual({ type: 'mnist', split: 'train' });
    expect(config.predict).toEqual({ sequential: true });
  });

  it('refuses paths outside the config, prototype keys and paths through non-objects', () => {
    expect(() => effectiveConfig(undefined, { set: ['nope.x=1'] })).toThrow(/--set: "nope.x" does not start at a config key/);
    expect(() => effectiveConfig(undefined, { set: ['perturbation.__proto__.x=1'] })).toThrow(/--set: "perturbation.__proto__.x" is not a config path/);
    expect(() => effectiveConfig(undefined, { set: ['seed.x=1'] })).toThrow(/--set: seed.x: \/seed is not an object/);
    expect(() => effectiveConfig(undefined, { set: ['retain'] })).toThrow(/--set: expects path=value/);
  });

  it('works on certify: the option reaches the validated config (an unknown one is reported with its path)', () => {
    const r = ablate(['certify', '--count', '1', '--n0', '10', '--n', '20', '--model', 'models/mnist-k45-multichannel.onnx', '--retain', '45', '--set', 'certifier.nn=3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\/certifier\/nn: is not a known option here/);
  });
});
