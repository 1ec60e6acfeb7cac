import { describe, expect, it } from 'vitest';
import {
  ablationBound,
  AblationPerturbation,
  CohenCertifier,
  FunctionClassifier,
  LecuyerCertifier,
  MultichannelEncoder,
  Rng,
  SmoothedClassifier,
  maxCertifiedRadius,
  ablationDelta,
  type Certifier,
} from '../src/index.js';

/**
 * Soundness by simulation: a synthetic base classifier returns class 0 with a known probability p (and class 1
 * otherwise), whatever it is shown. Its true certified radius R* is known in closed form. Over many independent
 * certify runs, the fraction of certificates that claim more than R* (or a wrong class) must stay ≤ α.
 * p is chosen just below the threshold for R* + 1, where an over-claim is most likely (≈ α for a tight
 * Clopper–Pearson bound): a certifier with a wrong confidence level would fail this test.
 */
const d = 64;
const k = 10;
const shape = [1, 8, 8] as const;
const alpha = 0.05;
const runs = 2000;
const n = 1000;
const n0 = 64;

function simulate(makeCertifier: () => Certifier, p: number, trueRadius: number) {
  let overclaims = 0;
  let exact = 0;
  const rng = new Rng(99, 1);
  const classifier = new FunctionClassifier({ numClasses: 2, predict: () => (rng.float() < p ? 0 : 1) });
  const smoothed = new SmoothedClassifier(new AblationPerturbation({ retain: k }), new MultichannelEncoder(), classifier, makeCertifier(), { batchSize: 512, seed: 5 });
  const x = { data: new Float32Array(d).fill(0.5), shape };
  return (async () => {
    for (let i = 0; i < runs; i++) {
      const cert = await smoothed.certify(x, { index: i });
      if (cert.prediction === null) continue;
      if (cert.prediction !== 0 || cert.radius! > trueRadius) overclaims++;
      if (cert.radius === trueRadius) exact++;
    }
    if (process.env.ABLATE_DEBUG) console.log({ overclaims: overclaims / runs, exact: exact / runs });
    return { overclaims: overclaims / runs, exact: exact / runs };
  })();
}

// tolerance: 3 binomial standard deviations at α over `runs` runs
const tolerance = 3 * Math.sqrt((alpha * (1 - alpha)) / runs);

describe('soundness by simulation (2 000 certify runs each)', () => {
  it('cohen: over-claims ≤ α', async () => {
    const R = 2;
    // Corollary 1 certifies R* + 1 iff p − Δ(R*+1) > ½; sit just below that threshold.
    const p = 0.5 + ablationDelta(d, k, R + 1) - 1e-6;
    expect(maxCertifiedRadius({ bound: ablationBound(d, k), pLower: p })).toBe(R);
    const { overclaims, exact } = await simulate(() => new CohenCertifier({ alpha, n0, n }), p, R);
    expect(overclaims).toBeLessThanOrEqual(alpha + tolerance);
    // the test has teeth: the certifier usually reaches the true radius, and does over-claim sometimes
    expect(exact).toBeGreaterThan(0.3);
    expect(overclaims).toBeGreaterThan(0);
  });

  it('lecuyer: over-claims ≤ α (Bonferroni over 2 classes)', async () => {
    const R = 1;
    // Corollary 2 with p_B = 1 − p_A certifies R*+1 iff p − Δ > 1 − p + Δ, i.e. p > ½ + Δ(R*+1).
    const p = 0.5 + ablationDelta(d, k, R + 1) - 1e-6;
    expect(maxCertifiedRadius({ bound: ablationBound(d, k), pLower: p, pUpper: 1 - p })).toBe(R);
    const { overclaims, exact } = await simulate(() => new LecuyerCertifier({ alpha, n0, n }, 2), p, R);
    expect(overclaims).toBeLessThanOrEqual(alpha + tolerance);
    expect(exact).toBeGreaterThan(0.3);
  });
});
