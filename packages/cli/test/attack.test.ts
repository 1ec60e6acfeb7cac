import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseClassifierDecider, changedLocations, createContainer } from '@ablate/core';
import '@ablate/backend-onnx';
import { decodePng } from '@ablate/datasets';

const root = resolve(__dirname, '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const example = JSON.parse(readFileSync(join(root, 'examples/mnist-onnx/config.json'), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'ablate-attack-'));
// the shipped k = 45 model with an absolute path, n = 40 samples per query and at most 40 queries per restart (fast)
const config = join(dir, 'config.json');
writeFileSync(
  config,
  JSON.stringify({
    ...example,
    classifier: { ...example.classifier, model: join(root, 'models/mnist-k45-multichannel.onnx') },
    certifier: { ...example.certifier, n: 40 },
    attack: { type: 'pointwise', maxQueries: 40 },
  }),
);

function ablate(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const rows = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
const withoutSeconds = (rs: any[]) => rs.map(({ seconds: _s, ...r }) => r);

describe('ablate attack', () => {
  it('against the base model: contract rows, and every saved PNG is exactly an adversarial example of its magnitude', async () => {
    const out = join(dir, 'base.jsonl');
    const ex = join(dir, 'base-examples');
    const r = ablate(['attack', '--config', config, '--target', 'base', '--count', '4', '--restarts', '2', '--out', out, '--save-examples', ex]);
    expect(r.code, r.stderr).toBe(0);
    const rs = rows(out);
    expect(rs.map((x) => x.index)).toEqual([0, 1, 2, 3]);
    for (const x of rs) expect(Object.keys(x)).toEqual(['index', 'label', 'magnitude', 'restarts', 'queries', 'samples', 'seconds']);
    expect(JSON.parse(readFileSync(`${out}.meta.json`, 'utf8'))).toMatchObject({ command: 'attack', config: { target: 'base', attackDescription: 'pointwise(restarts=2, levels=256)' } });
    expect(r.stderr).toMatch(/\[4\/4\] image 3: label 0, /);
    // summarize names the oracle: the base model's argmax, not PREDICT
    const clean = rs.filter((x) => x.magnitude !== 0).length / 4;
    expect(JSON.parse(ablate(['summarize', out, '--json']).stdout)).toMatchObject({ accuracySource: 'base', accuracy: clean, abstainRate: 0 });
    expect(ablate(['summarize', out]).stdout).toContain(`  clean accuracy (base classifier argmax, no smoothing): ${(100 * clean).toFixed(2)}% (${4 * (1 - clean)} misclassified, counted as 0)\n`);
    // re-check each saved example through the SDK
    const rt = await createContainer(JSON.parse(readFileSync(config, 'utf8')), { baseDir: dir });
    try {
      const decide = baseClassifierDecider(rt.classifier, rt.encoder);
      const saved = readdirSync(ex).sort();
      expect(saved).toEqual(rs.filter((x) => x.magnitude !== null).map((x) => `${x.index}.png`).sort());
      for (const x of rs) {
        if (x.magnitude === null) continue;
        const original = rt.dataset!.get(x.index).image;
        const adv = decodePng(readFileSync(join(ex, `${x.index}.png`)));
        expect(adv.shape).toEqual([1, 28, 28]);
        expect(changedLocations(adv.data, original.data, original.shape)).toBe(x.magnitude);
        expect(x.samples).toBe(x.queries);
        if (x.magnitude > 0) expect((await decide(adv, { index: x.index, restart: 0, query: 0 })).prediction).not.toBe(x.label);
      }
    } finally {
      await rt.dispose();
    }
  });

  it('against the smoothed classifier: deterministic for a seed, resumable, PREDICT samples counted', () => {
    const a = join(dir, 'smoothed-a.jsonl');
    const b = join(dir, 'smoothed-b.jsonl');
    const args = ['attack', '--config', config, '--count', '2', '--restarts', '1', '--fixed-samples'];
    expect(ablate([...args, '--out', a, '--save-examples', join(dir, 'ea')]).code).toBe(0);
    // b: first image only, then resumed to both: same rows and same PNG bytes as the uninterrupted run
    expect(ablate([...args, '--count', '1', '--out', b, '--save-examples', join(dir, 'eb')]).code).toBe(0);
    const resumed = ablate([...args, '--out', b, '--resume', '--save-examples', join(dir, 'eb')]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/\[2\/2\] image 1/);
    expect(withoutSeconds(rows(b))).toEqual(withoutSeconds(rows(a)));
    for (const x of rows(a)) {
      expect(x.samples).toBe(40 * x.queries);
      if (x.magnitude !== null) expect(readFileSync(join(dir, 'eb', `${x.index}.png`))).toEqual(readFileSync(join(dir, 'ea', `${x.index}.png`)));
    }
    const summary = JSON.parse(ablate(['summarize', a, '--json']).stdout);
    expect(summary.accuracySource).toBe('predict');
    expect(ablate(['summarize', a]).stdout).toContain('  clean accuracy (PREDICT, binomial test of the top two counts): ');
    // resuming with another target or config is refused
    expect(ablate([...args, '--target', 'base', '--out', b, '--resume']).code).toBe(2);
    expect(ablate([...args, '--restarts', '3', '--out', b, '--resume']).code).toBe(2);
  }, 600_000); // six processes; a few seconds on an idle machine

  it('summarize: median adversarial magnitude with +∞ for none found and 0 for misclassified originals', () => {
    const f = join(dir, 'synthetic.jsonl');
    const line = (index: number, magnitude: number | null) => JSON.stringify({ index, label: 0, magnitude, restarts: 10, queries: 1, samples: 1, seconds: 0 });
    writeFileSync(f, `${[line(0, 0), line(1, 5), line(2, null), line(3, 31), line(4, 8)].join('\n')}\n`);
    const r = ablate(['summarize', f, '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.attack).toMatchObject({ medianAdversarialMagnitude: 8, misclassified: 1, notFound: 1 });
    expect(s.attack.empiricalAccuracy['0']).toBeCloseTo(4 / 5);
    expect(s.attack.empiricalAccuracy['8']).toBeCloseTo(2 / 5);
    expect(s.attack.empiricalAccuracy['31']).toBeCloseTo(1 / 5);
    writeFileSync(f, `${[line(0, 3), line(1, null), line(2, null), line(3, 1)].join('\n')}\n`);
    const text = ablate(['summarize', f]).stdout;
    expect(text).toMatch(/median adversarial magnitude: \+∞/);
    const svg = join(dir, 'plot.svg');
    expect(ablate(['summarize', f, '--plot', svg]).code).toBe(0);
    expect(readFileSync(svg, 'utf8')).toMatch(/stroke-dasharray/);
  });

  it('rejects bad flags with exit 2', () => {
    expect(ablate(['attack', '--config', config, '--restarts', '0']).code).toBe(2);
    expect(ablate(['attack', '--config', config, '--target', 'nope']).code).toBe(2);
    expect(ablate(['attack', '--config', config, '--resume']).code).toBe(2);
  });
});
