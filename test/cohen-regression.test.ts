import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The Cohen path must not change its results: same config and seed → the very rows committed in
// reproduction/results/table1-k45.jsonl, on real MNIST images with the shipped model. Those rows were certified
// before certificates gained `samples` and before PREDICT existed; `samples` and the `predict` field were joined
// in later (reproduction/join-predict.mjs), so `certify --predict` today must reproduce every field but `seconds`.
const root = resolve(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'ablate-cohen-'));
const rows = (f: string) =>
  readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('Cohen regression against committed rows', () => {
  it('table1-k45 images 8 and 9 (radius 0 and 4): identical prediction, radius, pLower, nA, n, PREDICT; samples = n0 + n', () => {
    const out = join(dir, 'cohen.jsonl');
    const r = spawnSync(process.execPath, [join(root, 'packages/cli/dist/bin.js'), 'certify', '--config', 'reproduction/configs/table1-k45.json', '--start', '8', '--count', '2', '--predict', '--out', out], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const committed = rows(join(root, 'reproduction/results/table1-k45.jsonl')).filter((x) => x.index === 8 || x.index === 9);
    const fresh = rows(out);
    expect(committed).toHaveLength(2);
    expect(committed.every((x) => x.predict)).toBe(true);
    expect(fresh.map(({ seconds, ...rest }) => rest)).toEqual(committed.map(({ seconds, ...rest }) => rest));
    expect(fresh.map((x) => x.samples)).toEqual([11000, 11000]);
  }, 600_000); // ≈ 2 s on an idle 2-core machine; generous for a loaded one
});
