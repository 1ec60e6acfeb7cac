import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// A small Lee-noise certification through the CLI with the shipped noise model (models/mnist-lee-k0.1.onnx, κ = 0.1: the validation sweep's choice).
const root = resolve(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'ablate-lee-'));
const ablate = (args: string[]) => spawnSync(process.execPath, [join(root, 'packages/cli/dist/bin.js'), ...args], { cwd: root, encoding: 'utf8' });

describe('Lee-noise end to end', () => {
  it('certifies MNIST images with the shipped noise model; radii and the summary are in features', () => {
    const out = join(dir, 'lee.jsonl');
    const r = ablate(['certify', '--config', 'reproduction/configs/table7-lee-noise.json', '--count', '3', '--n0', '50', '--n', '2000', '--alpha', '0.05', '--out', out]);
    expect(r.status).toBe(0);
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(3);
    expect(rows.filter((x) => x.correct).length).toBeGreaterThanOrEqual(2);
    expect(rows.filter((x) => x.correct && x.radius >= 1).length).toBeGreaterThanOrEqual(2); // 3, 3, 3 when written
    expect(rows.every((x) => x.radius === null || Number.isInteger(x.radius))).toBe(true);
    const meta = JSON.parse(readFileSync(`${out}.meta.json`, 'utf8'));
    expect(meta).toMatchObject({ perturbation: 'lee-noise(K=256, κ=0.1)', unit: 'features' });
    const s = ablate(['summarize', out]);
    expect(s.stdout).toMatch(/median certified robustness: (\d+ features|N\/A)/);
    expect(s.stdout).toMatch(/certified accuracy at ρ \(features\)/);
    const json = JSON.parse(ablate(['summarize', out, '--json']).stdout);
    expect(json.unit).toBe('features');
  });

  it('one chart for both schemes: the legend names each run’s perturbation', () => {
    const abl = join(dir, 'abl.jsonl');
    expect(ablate(['certify', '--config', 'examples/mnist-onnx/config.json', '--count', '3', '--n0', '50', '--n', '1000', '--out', abl]).status).toBe(0);
    const svg = join(dir, 'cmp.svg');
    expect(ablate(['summarize', join(dir, 'lee.jsonl'), abl, '--plot', svg]).status).toBe(0);
    const text = readFileSync(svg, 'utf8');
    expect(text).toContain('lee-noise(K=256, κ=0.1) [features]');
    expect(text).toContain('ablation(k=45) [pixels]');
  });
});
