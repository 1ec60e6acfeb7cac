import { describe, expect, it } from 'vitest';
import { ablationBound, ablationDelta, bestParameter, checkSchedule, planSamples } from '../src/index.js';

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
