import { describe, expect, it } from 'vitest';
import { ablationBound, ablationDelta, bestParameter, checkSchedule, clopperPearsonLower, planSamples } from '../src/index.js';
import { smallestCertifyingN } from '../src/engine/sample-planner.js';

describe('planner', () => {
  const bound = ablationBound(784, 45);

  it('pA = 1: fixed n and the sequential check follow the closed form α^(1/n) > ½ + Δ(ρ)', async () => {
    const alpha = 0.05;
    const need = 0.5 + ablationDelta(784, 45, 11);
    // with nA = n the Clopper–Pearson lower bound is α^(1/n): smallest n with α^(1/n) > need
    let n = 1;
    while (!(alpha ** (1 / n) > need)) n++;
    const { counts, alphas } = checkSchedule(11000 - 16, alpha);
    const seq = counts.find((m, i) => alphas[i]! ** (1 / m) > need);
    const plan = await planSamples({ bound, radius: 11, pA: 1, alpha, simulations: 20 });
    expect(plan.fixedN).toBe(n);
    expect(n).toBe(151);
    expect(plan.sequentialN).toBe(seq);
    expect(plan.radiusAtPA).toBe(11);
    // every simulated run sees only votes for ĉA: 16 selection samples + the first sufficient check
    expect(plan.simulated).toEqual({ runs: 20, meanSamples: 16 + seq!, medianSamples: 16 + seq!, certifiedAtLeast: 1 });
  });

  it('fixed n is the true smallest n, though ⌊pA·n⌋ makes certification non-monotone in n (ρ = 9, pA = 0.95: 180, not 209)', async () => {
    // independent scan from n = 1: CP-lower(⌊0.95 n⌋, n, 0.05) − Δ(9) > ½ (Theorem 1 with the ablation Δ)
    const need = 0.5 + ablationDelta(784, 45, 9);
    const certifies = (n: number) => clopperPearsonLower(Math.floor(0.95 * n), n, 0.05) - need > 0;
    let first = 1;
    while (!certifies(first)) first++;
    expect(first).toBe(180);
    // the saw tooth the old bisection fell into: 209 certifies, 221 and 222 do not
    expect([certifies(180), certifies(209), certifies(221), certifies(222)]).toEqual([true, true, false, false]);
    const plan = await planSamples({ bound, radius: 9, pA: 0.95, alpha: 0.05, simulations: 0 });
    expect(plan.fixedN).toBe(180);
  });

  it('smallestCertifyingN equals a scan from below over a grid of saw-toothed cases, with far fewer evaluations', () => {
    const big: number[][] = [];
    for (const pA of [0.6, 0.75, 0.9, 0.95, 0.99, 0.999, 1]) {
      for (const gap of [0.3, 0.1, 0.05, 0.02]) {
        for (const alpha of [0.05, 1e-3, 1e-10]) {
          const need = pA - gap; // certify when CP-lower > need, as radius(CP-lower) ≥ ρ does with need = ½ + Δ(ρ)
          let calls = 0;
          const certifies = (k: number, n: number) => {
            calls++;
            return clopperPearsonLower(k, n, alpha) > need;
          };
          const got = smallestCertifyingN(certifies, pA);
          let n = 1;
          while (!certifies(Math.floor(pA * n), n)) n++;
          expect(got, `pA=${pA} need=${need} α=${alpha}`).toBe(n);
          if (n > 5000) big.push([n, calls - n]);
        }
      }
    }
    // where the scan is long (n from ~6 000 to ~25 000), the search itself needs O(√n) evaluations, not n
    expect(big.length).toBeGreaterThan(3);
    for (const [n, searchCalls] of big) expect(searchCalls, `n=${n}`).toBeLessThan(Math.min(n! / 3, 30 * Math.sqrt(n!)));
  });

  it('a radius beyond what pA can give: no n suffices', async () => {
    const plan = await planSamples({ bound, radius: 11, pA: 0.9, alpha: 0.05, simulations: 0 });
    expect(plan).toEqual({ fixedN: null, sequentialN: null, radiusAtPA: 8 });
    // radius at pA = 0.9: the largest ρ with 0.9 − Δ(ρ) > ½, by direct scan
    let rho = 0;
    while (0.9 - ablationDelta(784, 45, rho + 1) > 0.5) rho++;
    expect(rho).toBe(8);
  });

  it('best k for a pA curve: the radius at n is recomputed by scanning Δ', () => {
    const curve = [
      { param: 20, pA: 0.9 },
      { param: 45, pA: 0.97 },
      { param: 100, pA: 0.995 },
    ];
    const { best, table } = bestParameter(curve, (k) => ablationBound(784, k), 10000, 0.05);
    // at nA = ⌊pA·n⌋ of n = 10 000 the CP lower bound is within 0.01 of pA: the same radius here
    const scan = (k: number, p: number) => {
      let r = -1;
      while (p - ablationDelta(784, k, r + 1) > 0.5) r++;
      return r;
    };
    expect(table.map((c) => c.radiusAtPA)).toEqual(curve.map((c) => scan(c.param, c.pA)));
    expect(table.map((c) => c.radiusAtPA)).toEqual([19, 10, 4]);
    expect(best.param).toBe(20);
  });
});
