import { describe, expect, it } from 'vitest';
import { ablationBound, leeNoiseBound, radiusFunction, Rng, type RobustnessBound, type VoteSampler } from '@ablate/core';
import { bernoulliSampler, threshold } from '../packages/core/test/helpers/adversarial-p.js';

// Issue 23's confidence sequences (reproduction/confidence-sequences.mjs, simulation only; proofs in
// docs/certificates.md, "Tighter confidence sequences").
type Betting = { add(k: number, s: number): void; lower(): number; logCapital(m: number): { value: number; error: number } };
const cs = (await import('../reproduction/confidence-sequences.mjs' as string)) as {
  mixtureLower(S: number, n: number, alpha: number, a?: number, b?: number): number;
  mixtureLogM(S: number, n: number, p0: number, a: number, b: number): { value: number; error: number };
  BettingLower: new (alpha: number, cap?: number) => Betting;
};
const sim = (await import('../reproduction/simulate-cs.mjs' as string)) as {
  certifyWithSequence(sample: VoteSampler, bound: RobustnessBound, o: { alpha: number; maxSamples: number; n0?: number; cs: string; ratio?: number }): Promise<{ prediction: number | null; radius: number; samples: number }>;
};

/** ln P(Bin(n, p) ≤ S), summed term by term in log space (independent of the mixture's incomplete beta). */
function logBinomialCdf(S: number, n: number, p: number): number {
  let logC = 0; // ln C(n, 0)
  const terms: number[] = [];
  for (let k = 0; k <= S; k++) {
    terms.push(logC + k * Math.log(p) + (n - k) * Math.log1p(-p));
    logC += Math.log((n - k) / (k + 1));
  }
  const top = Math.max(...terms);
  return top + Math.log(terms.reduce((s, t) => s + Math.exp(t - top), 0));
}

describe('beta-binomial mixture', () => {
  it('uniform prior: M_n(p0) = P(Bin(n + 1, p0) ≤ S) / ((n + 1)·C(n, S)·p0^S·(1 − p0)^F) (the closed form)', () => {
    for (const [S, n] of [[7, 10], [90, 100], [180, 200], [299, 300], [1, 50]] as const) {
      for (const p0 of [0.05, 0.3, 0.5, 0.7, 0.89]) {
        if (p0 > S / n) continue;
        const F = n - S;
        let logChoose = 0;
        for (let k = 0; k < S; k++) logChoose += Math.log((n - k) / (k + 1));
        const exact = logBinomialCdf(S, n + 1, p0) - Math.log(n + 1) - logChoose - S * Math.log(p0) - F * Math.log1p(-p0);
        const { value, error } = cs.mixtureLogM(S, n, p0, 1, 1);
        expect(Math.abs(value - exact)).toBeLessThan(1e-9);
        expect(error).toBeGreaterThan(0);
      }
    }
  });

  it('general prior Beta(3, 2): matches a numerical integral of the mixture', () => {
    const [S, n, p0, a, b] = [40, 60, 0.45, 3, 2];
    const F = n - S;
    // Simpson on [p0, 1] of q^(S+a−1)(1−q)^(F+b−1)/B(a, b), divided by p0^S (1−p0)^F; B(3, 2) = 1/12
    const steps = 20000;
    const h = (1 - p0) / steps;
    const f = (q: number) => 12 * Math.exp((S + a - 1) * Math.log(q) + (F + b - 1) * Math.log1p(-q) - S * Math.log(p0) - F * Math.log1p(-p0));
    let sum = f(p0) + f(1);
    for (let i = 1; i < steps; i++) sum += (i % 2 ? 4 : 2) * f(p0 + i * h);
    expect(cs.mixtureLogM(S, n, p0, a, b).value).toBeCloseTo(Math.log((sum * h) / 3), 8);
  });

  it('the lower end is the boundary of the rejected set, rounded down, and below S/n', () => {
    for (const [S, n, alpha] of [[95, 100, 0.05], [9990, 10000, 0.001], [500, 1000, 0.05], [3, 3, 0.05]] as const) {
      const L = cs.mixtureLower(S, n, alpha, 1, 1);
      expect(L).toBeGreaterThan(0);
      expect(L).toBeLessThanOrEqual(S / n);
      expect(cs.mixtureLogM(S, n, L, 1, 1).value).toBeGreaterThanOrEqual(-Math.log(alpha));
      if (L < S / n - 1e-9) expect(cs.mixtureLogM(S, n, L + 1e-9, 1, 1).value).toBeLessThan(-Math.log(alpha) + 1e-6);
    }
  });
});

describe('betting sequence', () => {
  it('capital: Σ over blocks of s·ln(1 + λ(1 − m)) + (k − s)·ln(1 − λm), λ = min(λ̃, c/m); L is its boundary', () => {
    const b = new cs.BettingLower(0.05, 0.75);
    b.add(16, 16); // first bet: t = 0, mean ½, variance ¼ → λ̃ = sqrt(2·ln 20 / (¼·1·ln 2))
    const bet = Math.sqrt((2 * Math.log(20)) / (0.25 * Math.log(2)));
    for (const m of [0.1, 0.5, 0.9]) {
      const lambda = Math.min(bet, 0.75 / m);
      expect(b.logCapital(m).value).toBeCloseTo(16 * Math.log1p(lambda * (1 - m)), 12);
    }
    b.add(100, 95);
    const L = b.lower();
    expect(L).toBeGreaterThan(0.5);
    expect(b.logCapital(L).value).toBeGreaterThanOrEqual(Math.log(20));
    expect(b.logCapital(L + 1e-9).value).toBeLessThan(Math.log(20) + 1e-6);
  });
});

/**
 * Soundness by simulation, as for the union-bound certifier (packages/core/test/sequential.test.ts): p one step
 * (1e−6) below the threshold of radius R* + 1, several R*, both α; an over-claim is a radius > R* or another class,
 * and its rate must stay ≤ α + 3 standard errors. The sequential procedure of reproduction/simulate-cs.mjs
 * (selection n0 ≤ 100, checks ×1.1, budget 2 000) with each sequence.
 */
describe('confidence sequences: soundness by simulation at adversarial p_A', () => {
  const runs = 1000;
  const maxSamples = 2000;
  const cases: Array<[string, RobustnessBound, number[]]> = [
    ['ablation d = 64, k = 10', ablationBound(64, 10), [0, 1, 3]],
    ['lee-noise d = 64, K = 2, κ = 0.8', leeNoiseBound(64, 2, 0.8), [0, 1]],
  ];
  for (const sequence of ['mixture-uniform', 'mixture-selection', 'betting']) {
    for (const alpha of [0.05, 0.001]) {
      const tolerance = 3 * Math.sqrt((alpha * (1 - alpha)) / runs);
      it(`${sequence}, α = ${alpha}: over-claims ≤ α at radii 0, 1, 3 (ablation) and 0, 1 (Lee noise)`, async () => {
        for (const [name, bound, radii] of cases) {
          for (const R of radii) {
            const p = threshold(bound, R + 1) - 1e-6;
            expect(radiusFunction(bound)(p)).toBe(R);
            let over = 0;
            let exact = 0;
            for (let i = 0; i < runs; i++) {
              const c = await sim.certifyWithSequence(bernoulliSampler(p, new Rng(41 + R, i)), bound, { alpha, maxSamples, n0: 100, cs: sequence, ratio: 1.1 });
              if (c.prediction === null) continue;
              if (c.prediction !== 0 || c.radius > R) over++;
              if (c.radius === R) exact++;
            }
            if (process.env.ABLATE_DEBUG) console.log(sequence, name, alpha, R, { over: over / runs, exact: exact / runs });
            expect(over / runs).toBeLessThanOrEqual(alpha + tolerance);
            expect(exact / runs).toBeGreaterThan(alpha === 0.05 ? 0.5 : 0.2); // it does certify
          }
        }
      });
    }
  }

  /**
   * Power: the sequence alone, looked at every ×1.1 check up to 4 000 samples (the most adversarial stopping time:
   * any crossing counts), at p one step below the radius-1 threshold (ablation d = 64, k = 10). Ville bounds the
   * crossing rate by α·M_0 with M_0 = 1 for betting and M_0 = π([p, 1]) = 1 − p for the uniform mixture.
   */
  function crossings(sequence: string, level: number, p: number, n: number, seed: number): number {
    const checks: number[] = [];
    for (let m = 16; m < n; m = Math.max(m + 1, Math.ceil(m * 1.1))) checks.push(m);
    checks.push(n);
    let cross = 0;
    for (let i = 0; i < 2000; i++) {
      const rng = new Rng(seed, i);
      const betting = new cs.BettingLower(level);
      let S = 0;
      let t = 0;
      for (const m of checks) {
        let s = 0;
        for (let k = t; k < m; k++) if (rng.float() < p) s++;
        betting.add(m - t, s);
        S += s;
        t = m;
        if ((sequence === 'betting' ? betting.lower() : cs.mixtureLower(S, t, level, 1, 1)) > p) {
          cross++;
          break;
        }
      }
    }
    return cross / 2000;
  }
  const bound = ablationBound(64, 10);
  const p = threshold(bound, 2) - 1e-6;
  const alpha = 0.05;
  for (const [sequence, m0] of [['betting', 1], ['mixture-uniform', 1 - p]] as const) {
    it(`power: ${sequence} at α stays within Ville's α·M_0, at a broken level (4α) it does not`, () => {
      const limit = alpha * m0;
      const tolerance = 3 * Math.sqrt((limit * (1 - limit)) / 2000);
      const ok = crossings(sequence, alpha, p, 4000, 51);
      const broken = crossings(sequence, 4 * alpha, p, 4000, 52);
      if (process.env.ABLATE_DEBUG) console.log('crossings', sequence, { ok, broken, limit: limit + tolerance });
      expect(ok).toBeLessThanOrEqual(limit + tolerance);
      expect(broken).toBeGreaterThan(limit + tolerance);
    });
  }
});
