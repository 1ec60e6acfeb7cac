import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Every example runs here on a few images with small n.
const root = resolve(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'ablate-examples-'));
const run = (args: string[]) => spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
const ablate = (args: string[]) => run([join(root, 'packages/cli/dist/bin.js'), ...args]);
const rows = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => ({ ...JSON.parse(l), seconds: 0 }));

describe('examples', () => {
  it('mnist-onnx: the config alone certifies real MNIST images with the shipped model', () => {
    const out = join(dir, 'mnist-onnx.jsonl');
    const r = ablate(['certify', '--config', 'examples/mnist-onnx/config.json', '--count', '4', '--n0', '100', '--n', '1000', '--out', out]);
    expect(r.status).toBe(0);
    const rs = rows(out);
    expect(rs).toHaveLength(4);
    // the trained model gets these easy digits right with a non-trivial radius
    expect(rs.filter((x) => x.correct && x.radius >= 3).length).toBeGreaterThanOrEqual(3);
  });

  it('swap-backend: onnx and tfjs configs give identical certificates', () => {
    const outs = ['onnx', 'tfjs'].map((b) => {
      const out = join(dir, `swap-${b}.jsonl`);
      const r = ablate(['certify', '--config', `examples/swap-backend/config-${b}.json`, '--count', '3', '--n0', '100', '--n', '1000', '--out', out]);
      expect(r.status).toBe(0);
      return rows(out);
    });
    expect(outs[1]).toEqual(outs[0]);
  });

  it('core-demo runs', () => {
    const r = run(['examples/core-demo/run.mjs']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/"prediction":1,"radius":\d+/);
  });
});
