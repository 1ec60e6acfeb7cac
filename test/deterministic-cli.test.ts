import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMnist } from '@ablate/datasets';
import { OnnxClassifier } from '@ablate/backend-onnx';
import { jsonlRows } from '../packages/cli/test/helpers/ablate-process.js';

// End to end: `ablate certify` with feature partitions / column bands and a shipped model, checked against votes
// computed here by hand (masks and the multichannel encoding written out, the model run directly).
const root = resolve(__dirname, '..');
const bin = join(root, 'packages/cli/dist/bin.js');
const dir = mkdtempSync(join(tmpdir(), 'ablate-det-'));
const ablate = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
const rows = jsonlRows;

/** Votes of the model on the T ablations of image `index` (kept(t, p): location p retained in ablation t). */
async function handVotes(model: string, index: number, T: number, kept: (t: number, p: number) => boolean): Promise<number[]> {
  const { image } = loadMnist('test').get(index);
  const input = new Float32Array(T * 2 * 784);
  for (let t = 0; t < T; t++) {
    for (let p = 0; p < 784; p++) {
      if (!kept(t, p)) continue;
      input[t * 1568 + p] = image.data[p]!;
      input[t * 1568 + 784 + p] = 1 - image.data[p]!;
    }
  }
  const f = await OnnxClassifier.create({ model });
  try {
    const classes = await f.classify(input, T, [2, 28, 28]);
    const votes = new Array<number>(10).fill(0);
    for (let t = 0; t < T; t++) votes[classes[t]!]++;
    return votes;
  } finally {
    await f.dispose();
  }
}

/** The vote-gap certificate computed from the votes (docs/certificates.md): largest r with gap ≥ 2Δ(r) + [B < A]. */
function expected(votes: number[], delta: (r: number) => number, maxRadius: number) {
  let a = 0;
  for (let c = 1; c < 10; c++) if (votes[c]! > votes[a]!) a = c;
  let b = a === 0 ? 1 : 0;
  for (let c = 0; c < 10; c++) if (c !== a && votes[c]! > votes[b]!) b = c;
  const gap = votes[a]! - votes[b]!;
  let r = 0;
  while (r < maxRadius && gap >= 2 * delta(r + 1) + (b < a ? 1 : 0)) r++;
  return { prediction: a, nA: votes[a]!, nB: votes[b]!, radius: r };
}

describe('ablate certify with deterministic certificates (shipped models)', () => {
  it('feature partitions: k = 20 model, T = 39 stride parts', async () => {
    const out = join(dir, 'partition.jsonl');
    const r = ablate(['certify', '--config', 'reproduction/configs/l0-partition-k20-T39.json', '--count', '5', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const rs = rows(out);
    expect(rs).toHaveLength(5);
    for (const row of rs) expect(Object.keys(row)).toEqual(['index', 'label', 'prediction', 'radius', 'correct', 'pLower', 'nA', 'nB', 'n', 'samples', 'deterministic', 'seconds']);
    for (const row of rs) {
      const votes = await handVotes(join(root, 'models/mnist-k20-multichannel.onnx'), row.index, 39, (t, p) => p % 39 === t);
      const want = expected(votes, (rho) => Math.min(rho, 39), 784);
      expect(row).toMatchObject({ ...want, n: 39, samples: 39, deterministic: true, pLower: want.nA / 39 });
    }
    expect(JSON.parse(readFileSync(`${out}.meta.json`, 'utf8'))).toMatchObject({ perturbation: 'partition(T=39, stride)', unit: 'pixels' });
    const s = ablate(['summarize', out, '--json']);
    expect(JSON.parse(s.stdout)).toMatchObject({ count: 5, samples: { mean: 39, median: 39 }, deterministic: true, unit: 'pixels' });
  });

  it('a results file written before rows carried nB still resumes, in its own layout', () => {
    const args = ['certify', '--config', 'reproduction/configs/l0-partition-k20-T39.json'];
    const whole = join(dir, 'whole.jsonl');
    expect(ablate([...args, '--count', '4', '--out', whole]).status).toBe(0);
    // the file as an older ablate wrote it: two rows without nB, and a sidecar whose rowKeys lack it
    const old = join(dir, 'old-layout.jsonl');
    const drop = ({ nB: _nB, ...row }: Record<string, unknown>) => row;
    writeFileSync(old, rows(whole).slice(0, 2).map((r) => `${JSON.stringify(drop(r))}\n`).join(''));
    const meta = JSON.parse(readFileSync(`${whole}.meta.json`, 'utf8'));
    expect(meta.rowKeys).toContain('nB');
    writeFileSync(`${old}.meta.json`, JSON.stringify({ ...meta, rowKeys: meta.rowKeys.filter((k: string) => k !== 'nB') }, null, 2));
    const r = ablate([...args, '--count', '4', '--out', old, '--resume']);
    expect(r.status, r.stderr).toBe(0);
    const strip = ({ seconds: _s, ...row }: Record<string, unknown>) => row;
    expect(rows(old).map(strip)).toEqual(rows(whole).map(drop).map(strip));
    expect(JSON.parse(readFileSync(`${old}.meta.json`, 'utf8')).rowKeys).not.toContain('nB');
    // a file in the new layout resumes in it, and a file in neither layout is refused
    const cut = join(dir, 'new-layout.jsonl');
    writeFileSync(cut, rows(whole).slice(0, 1).map((x) => `${JSON.stringify(x)}\n`).join(''));
    writeFileSync(`${cut}.meta.json`, JSON.stringify(meta));
    expect(ablate([...args, '--count', '4', '--out', cut, '--resume']).status).toBe(0);
    expect(rows(cut).map(strip)).toEqual(rows(whole).map(strip));
    const other = join(dir, 'other-layout.jsonl');
    writeFileSync(other, `${JSON.stringify(drop(rows(whole)[0]))}\n`);
    writeFileSync(`${other}.meta.json`, JSON.stringify({ ...meta, rowKeys: meta.rowKeys.filter((k: string) => k !== 'nB' && k !== 'nA') }));
    const bad = ablate([...args, '--count', '4', '--out', other, '--resume']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/written by a different run: \/rowKeys/);
  });

  it('column bands: k = 45 model, b = 4, radius in patch sides', async () => {
    const out = join(dir, 'band.jsonl');
    const r = ablate(['certify', '--model', 'models/mnist-k45-multichannel.onnx', '--perturbation', 'band', '--width', '4', '--certifier', 'vote-gap', '--count', '3', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    for (const row of rows(out)) {
      const votes = await handVotes(join(root, 'models/mnist-k45-multichannel.onnx'), row.index, 28, (t, p) => ((p % 28) - t + 28) % 28 < 4);
      expect(row).toMatchObject({ ...expected(votes, (m) => Math.min(m + 3, 28), 28), n: 28, samples: 28 });
    }
    expect(ablate(['summarize', out]).stdout).toMatch(/median certified robustness: (\d+)×\1 patch|N\/A/);
  });

  it('wrong combinations exit 2 naming the field', () => {
    const r = ablate(['certify', '--config', 'reproduction/configs/table1-k20.json', '--certifier', 'vote-gap', '--count', '1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/\/certifier\/type: vote-gap needs a perturbation that enumerates/);
    const p = ablate(['certify', '--config', 'reproduction/configs/l0-partition-k20-T39.json', '--parts', '785', '--count', '1']);
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/\/perturbation\/parts/);
    expect(ablate(['predict', '--config', 'reproduction/configs/l0-partition-k20-T39.json', '--count', '1']).status).toBe(2);
    // PREDICT's test at α has no meaning for an exact certificate (α = 0): refused, not a column of abstentions
    const withPredict = ablate(['certify', '--config', 'reproduction/configs/l0-partition-k20-T39.json', '--predict-n', '100', '--count', '1']);
    expect(withPredict.status).toBe(2);
    expect(withPredict.stderr).toMatch(/--predict: the vote-gap certifier is exact/);
  });
});
