import { describe, expect, it } from 'vitest';
import {
  CohenCertifier,
  LecuyerCertifier,
  Rng,
  SequentialCertifier,
  predictFromCounts,
  type Certificate,
  type Certifier,
  type RobustnessBound,
  type VoteSampler,
} from '../src/index.js';

/**
 * Tests that catch selection bias and a missing Bonferroni split (issue 20 §7): the certifiers must pick ĉA from
 * the selection samples only, so that at a tie the Clopper–Pearson bound of ĉA still holds with probability ≥ 1 − α
 * (picking the top class of the estimation counts makes it fail ~2α of the time on a fair coin), and Lecuyer's
 * bounds must hold simultaneously over ≥ 3 classes. Monte Carlo with fixed seeds and a synthetic vote sampler
 * whose class probabilities are known exactly; tolerance 3 binomial standard deviations.
 */

/** A bound that certifies radius 0 exactly when Corollary 1/2 holds at ρ = 0 (p_A > ½, resp. p_A > p_B). */
const bound: RobustnessBound = { threatModel: 'l0-locations', unit: 'pixels', domain: 'integer', maxRadius: 0, lower: (p) => p, upper: (p) => p };

/** Votes of i.i.d. samples whose class is i with probability probs[i] (one seeded stream per run). */
function sampler(probs: readonly number[], rng: Rng): VoteSampler {
  return async (num) => {
    const counts = new Uint32Array(probs.length);
    for (let s = 0; s < num; s++) {
      let u = rng.float();
      let i = 0;
      while (i < probs.length - 1 && u >= probs[i]!) u -= probs[i++]!;
      counts[i]!++;
    }
    return counts;
  };
}

/** Runs `runs` certificates on fresh streams and returns the share for which `failed` holds. */
async function failureRate(make: () => Certifier, probs: readonly number[], runs: number, seed: number, failed: (c: Certificate) => boolean): Promise<number> {
  const certifier = make();
  let failures = 0;
  for (let i = 0; i < runs; i++) if (failed(await certifier.certify(sampler(probs, new Rng(seed, i)), bound))) failures++;
  return failures / runs;
}

const alpha = 0.05;
const runs = 6000;
const tolerance = (level: number) => 3 * Math.sqrt((level * (1 - level)) / runs);

/** Selection votes all for class 1, estimation votes all for class 0: ĉA must be 1, with nA = 0 (abstain). */
const disagreeing: VoteSampler = async (num, phase) => (phase === 'selection' ? Uint32Array.from([0, num]) : Uint32Array.from([num, 0]));

describe('ĉA comes from the selection votes, not the estimation votes (stub sampler whose phases disagree)', () => {
  it('cohen', async () => {
    const c = await new CohenCertifier({ alpha, n0: 100, n: 1000 }).certify(disagreeing, bound);
    expect(c).toMatchObject({ guess: 1, nA: 0, pLower: 0, prediction: null, radius: null });
  });

  it('lecuyer', async () => {
    const c = await new LecuyerCertifier({ alpha, n0: 100, n: 1000 }, 2).certify(disagreeing, bound);
    expect(c).toMatchObject({ guess: 1, nA: 0, pLower: 0, pUpper: 1, prediction: null, radius: null });
  });

  it('sequential', async () => {
    const c = await new SequentialCertifier({ alpha, maxSamples: 2000, n0: 100 }).certify(disagreeing, bound);
    // selection stops after its first 16 samples (16–0 has p = 2⁻¹⁵ ≤ 0.001); every estimation vote is for class 0
    expect(c).toMatchObject({ guess: 1, nA: 0, n0: 16, prediction: null, radius: null });
    expect(c.n).toBeGreaterThan(0);
  });
});

describe('a tied and a near-tied two-class coin: the bound on ĉA holds with probability ≥ 1 − α', () => {
  for (const p0 of [0.5, 0.502]) {
    const probs = [p0, 1 - p0];
    it(`cohen, p = (${p0}, ${1 - p0}): P(pLower > p_ĉA) ≤ α (estimation-count selection gives ~2α)`, async () => {
      const rate = await failureRate(() => new CohenCertifier({ alpha, n0: 64, n: 1000 }), probs, runs, 11, (c) => c.pLower > probs[c.guess]!);
      expect(rate).toBeLessThanOrEqual(alpha + tolerance(alpha));
      expect(rate).toBeGreaterThan(alpha / 2); // the test has teeth: the bound is tight, so failures are near α
    });

    it(`lecuyer, p = (${p0}, ${1 - p0}): its lower bound is at level α/2, P(pLower > p_ĉA) ≤ α/2`, async () => {
      const rate = await failureRate(() => new LecuyerCertifier({ alpha, n0: 64, n: 1000 }, 2), probs, runs, 12, (c) => c.pLower > probs[c.guess]!);
      expect(rate).toBeLessThanOrEqual(alpha / 2 + tolerance(alpha / 2));
      expect(rate).toBeGreaterThan(alpha / 5);
    });

    it(`sequential, p = (${p0}, ${1 - p0}): P(pLower > p_ĉA) ≤ α, and no certificate claims a class at the tie`, async () => {
      const rate = await failureRate(() => new SequentialCertifier({ alpha, maxSamples: 2000, n0: 200 }), probs, 3000, 13, (c) => c.pLower > probs[c.guess]!);
      expect(rate).toBeLessThanOrEqual(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / 3000));
    });
  }
});

describe('Lecuyer’s Bonferroni split, Monte Carlo with 3 classes', () => {
  // With 2 classes the runner-up's upper bound is one minus the leader's lower bound (the same event), so a
  // missing split goes unnoticed; with 3 classes the two bounds fail on different draws.
  it('p = (0.5, 0.3, 0.2): pLower ≤ p_ĉA and pUpper ≥ max of the others hold together with probability ≥ 1 − α', async () => {
    const probs = [0.5, 0.3, 0.2];
    let lowerFails = 0;
    let upperFails = 0;
    const rate = await failureRate(() => new LecuyerCertifier({ alpha, n0: 64, n: 1000 }, 3), probs, runs, 14, (c) => {
      const runnerUp = Math.max(...probs.filter((_, i) => i !== c.guess));
      const low = c.pLower > probs[c.guess]!;
      const up = c.pUpper! < runnerUp;
      if (low) lowerFails++;
      if (up) upperFails++;
      return low || up;
    });
    expect(rate).toBeLessThanOrEqual(alpha + tolerance(alpha));
    // both bounds do fail sometimes (each at level α/3), on different draws
    expect(lowerFails).toBeGreaterThan(0);
    expect(upperFails).toBeGreaterThan(0);
  });
});

describe('PREDICT at p = α exactly', () => {
  it('5–0 votes give p = 2·2⁻⁵ = 0.0625: it answers at α = 0.0625 and abstains just below', () => {
    const at = predictFromCounts([5, 0, 0], 5, 0.0625);
    expect(at.pValue).toBe(0.0625);
    expect(at.prediction).toBe(0);
    expect(predictFromCounts([0, 5], 5, 0.0625).prediction).toBe(1);
    const below = predictFromCounts([5, 0, 0], 5, 0.0624999999);
    expect(below.prediction).toBeNull();
    // 9–1 of 10: p = 22/1024 exactly, the same rule
    expect(predictFromCounts([1, 9], 10, 22 / 1024).prediction).toBe(1);
    expect(predictFromCounts([1, 9], 10, 21.99 / 1024).prediction).toBeNull();
  });
});
