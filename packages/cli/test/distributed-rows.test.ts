import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clopperPearsonLower, createContainer, radiusFunction, type AblateRuntime } from '@ablate/core';
import '@ablate/backend-onnx';
import '@ablate/datasets';
import { computeRow, predictSettings, type CertifyRow, type PredictRow } from '../src/commands/run-dataset.js';
import { rowProblem } from '../src/distributed/verify-rows.js';
import { audited } from '../src/distributed/coordinator.js';

// The coordinator's check of a worker's row (issue 20 §1): real rows computed with the real MNIST model pass for
// every built-in certifier; each forged field is rejected, naming the field. Images 0–2 of the MNIST test set have
// labels 7, 2, 1.
const root = resolve(__dirname, '../../..');
const base = {
  dataset: { type: 'mnist', split: 'test' },
  perturbation: { type: 'ablation', retain: 45 },
  encoder: { type: 'multichannel' },
  classifier: { type: 'onnx', model: resolve(root, 'models/mnist-k45-multichannel.onnx'), executionProviders: ['cpu'], batchSize: 1000 },
  certifier: { type: 'cohen', alpha: 0.05, n0: 50, n: 300 },
  seed: 0,
};

const runtimes: AblateRuntime[] = [];
async function runtime(patch: Record<string, unknown>): Promise<AblateRuntime> {
  const rt = await createContainer({ ...base, ...patch } as never, { baseDir: root });
  runtimes.push(rt);
  return rt;
}
afterAll(async () => {
  for (const rt of runtimes) await rt.dispose();
});

describe('rows a worker returns are checked against the run before they are written', { timeout: 60_000 }, () => {
  let rt: AblateRuntime;
  let rows: CertifyRow[];
  beforeAll(async () => {
    rt = await runtime({});
    rows = [];
    for (let i = 0; i < 3; i++) rows.push((await computeRow(rt, 'certify', i)) as CertifyRow);
  });
  const check = (row: object) => rowProblem({ kind: 'certify', rt }, row as CertifyRow);

  it('true cohen rows pass; their pLower is the one-sided Clopper–Pearson bound of their own counts', async () => {
    expect(rows.map((r) => r.label)).toEqual([7, 2, 1]);
    for (const r of rows) {
      expect(await check(r)).toBeUndefined();
      expect(r.pLower).toBe(clopperPearsonLower(r.nA, 300, 0.05));
      expect(r.n).toBe(300);
      expect(r.samples).toBe(350);
    }
  });

  it('the issue’s rogue row, and each single forged field, is rejected naming that field', async () => {
    const r = rows[0]!;
    expect(r.prediction).toBe(7);
    expect(await check({ ...r, label: 3, prediction: 5, correct: true, radius: 1e9, pLower: 7, nA: 999999, n: 10 })).toMatchObject({ field: '/label' });
    const forged: [object, string][] = [
      [{ label: 3, correct: false }, '/label'],
      [{ correct: false }, '/correct'],
      [{ prediction: 3 }, '/correct'],
      [{ prediction: 10, correct: false }, '/prediction'],
      [{ radius: r.radius! + 1 }, '/radius'],
      [{ radius: r.radius! - 1 }, '/radius'],
      [{ radius: null, prediction: null, correct: false }, '/prediction'], // hides a certificate the counts give
      [{ radius: null }, '/radius'],
      [{ pLower: Math.min(1, r.pLower + 1e-9) }, '/pLower'],
      [{ pLower: 7 }, '/pLower'],
      [{ nA: 301 }, '/nA'],
      [{ nA: r.nA - 1 }, '/pLower'], // pLower no longer follows from nA
      [{ n: 10 }, '/nA'], // more votes than samples
      [{ n: 299 }, '/n'],
      [{ n: 301, nA: 301 }, '/n'],
      [{ samples: 349 }, '/samples'],
      [{ seconds: -1 }, '/seconds'],
      [{ seconds: Infinity }, '/seconds'],
      [{ predict: { prediction: 7, pValue: 0, nA: 300, nB: 0, n: 300 } }, '/predict'],
      [{ nB: 0 }, '/nB'],
      [{ deterministic: true }, '/deterministic'],
    ];
    for (const [patch, field] of forged) expect(await check({ ...r, ...patch }), JSON.stringify(patch)).toMatchObject({ field });
  });

  it('an abstaining row must be one the counts give', async () => {
    // nA = 150 of 300: CP_lower < ½, Cohen abstains; the same counts with a class and a radius are refused.
    const pLower = clopperPearsonLower(150, 300, 0.05);
    expect(pLower).toBeLessThan(0.5);
    const abstain = { ...rows[0]!, prediction: null, radius: null, correct: false, nA: 150, pLower };
    expect(await check(abstain)).toBeUndefined();
    expect(await check({ ...abstain, prediction: 7, correct: true, radius: 0 })).toMatchObject({ field: '/radius' });
  });

  it('lecuyer, sequential and PREDICT rows: true rows pass, forged certificates are refused', async () => {
    const lec = await runtime({ certifier: { type: 'lecuyer', alpha: 0.05, n0: 50, n: 300 } });
    const lr = (await computeRow(lec, 'certify', 1)) as CertifyRow;
    expect(await rowProblem({ kind: 'certify', rt: lec }, lr)).toBeUndefined();
    expect(lr.pLower).toBe(clopperPearsonLower(lr.nA, 300, 0.05 / 10)); // Bonferroni over 10 classes
    expect(await rowProblem({ kind: 'certify', rt: lec }, { ...lr, radius: lr.radius! + 5 })).toMatchObject({ field: '/radius' });
    expect(await rowProblem({ kind: 'certify', rt: lec }, { ...lr, pLower: clopperPearsonLower(lr.nA, 300, 0.05) })).toMatchObject({ field: '/pLower' });

    const seq = await runtime({ certifier: { type: 'sequential', alpha: 0.05, n0: 64, maxSamples: 2000 } });
    const sr: CertifyRow[] = [];
    for (let i = 0; i < 3; i++) sr.push((await computeRow(seq, 'certify', i)) as CertifyRow);
    for (const r of sr) expect(await rowProblem({ kind: 'certify', rt: seq }, r)).toBeUndefined();
    const s0 = sr[0]!;
    const bound = seq.perturbation.bound(seq.dataset!.shape);
    expect(s0.radius).toBe(radiusFunction(bound)(s0.pLower));
    expect(await rowProblem({ kind: 'certify', rt: seq }, { ...s0, radius: s0.radius! + 1 })).toMatchObject({ field: '/radius' });
    expect(await rowProblem({ kind: 'certify', rt: seq }, { ...s0, n: s0.n + 1, samples: s0.samples + 1 })).toMatchObject({ field: '/n' });
    expect(await rowProblem({ kind: 'certify', rt: seq }, { ...s0, pLower: 0.999999 })).toMatchObject({ field: '/pLower' });

    const predict = predictSettings(rt, 'predict');
    const pr = (await computeRow(rt, 'predict', 2, predict)) as PredictRow;
    const pcheck = (row: object) => rowProblem({ kind: 'predict', rt, predict }, row as PredictRow);
    expect(await pcheck(pr)).toBeUndefined();
    expect(pr).toMatchObject({ label: 1, prediction: 1, n: 300, samples: 300 });
    expect(await pcheck({ ...pr, pValue: pr.pValue / 2 })).toMatchObject({ field: '/pValue' });
    expect(await pcheck({ ...pr, nB: pr.nA + 1 })).toMatchObject({ field: '/nA' });
    expect(await pcheck({ ...pr, n: 10, samples: 10 })).toMatchObject({ field: '/n' });
    // 150 against 140: p ≈ 0.6 > α, PREDICT abstains; a class is refused
    expect(await pcheck({ ...pr, nA: 150, nB: 140, pValue: (await import('@ablate/core')).binomialTestPValue(150, 290) })).toMatchObject({ field: '/prediction' });
  });

  it('vote-gap rows: exact counts of all T bands; a larger radius or a wrong share is refused', async () => {
    const vg = await runtime({
      perturbation: { type: 'band', width: 4, orientation: 'column' },
      classifier: { ...base.classifier, model: resolve(root, 'models/mnist-column4-multichannel.onnx') },
      certifier: { type: 'vote-gap' },
    });
    const r = (await computeRow(vg, 'certify', 0)) as CertifyRow;
    expect(r).toMatchObject({ n: 28, samples: 28, deterministic: true });
    expect(await rowProblem({ kind: 'certify', rt: vg }, r)).toBeUndefined();
    expect(await rowProblem({ kind: 'certify', rt: vg }, { ...r, radius: r.radius! + 1 })).toMatchObject({ field: '/radius' });
    expect(await rowProblem({ kind: 'certify', rt: vg }, { ...r, pLower: 1 })).toMatchObject({ field: '/pLower' });
    expect(await rowProblem({ kind: 'certify', rt: vg }, { ...r, nB: r.nA + 1 })).toMatchObject({ field: '/nB' });
  });

  it('the audit’s choice of rows is seeded and takes about the requested fraction', () => {
    const pick = (seed: number) => Array.from({ length: 10_000 }, (_, i) => i).filter((i) => audited(seed, i, 0.1));
    expect(pick(1)).toEqual(pick(1));
    expect(pick(1)).not.toEqual(pick(2));
    // Binomial(10 000, 0.1): sd 30; ±150 is 5 sd
    expect(Math.abs(pick(1).length - 1000)).toBeLessThan(150);
    expect(audited(1, 5, 0)).toBe(false);
    expect(audited(1, 5, 1)).toBe(true);
  });
});
