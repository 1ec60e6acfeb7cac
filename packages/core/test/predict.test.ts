import { describe, expect, it } from 'vitest';
import { AblationPerturbation, CohenCertifier, FunctionClassifier, MultichannelEncoder, Rng, SmoothedClassifier, SUBSTREAM, predictFromCounts } from '../src/index.js';

/**
 * Independent two-sided binomial test at ½, exactly: p = min(1, 2·Σ_{i ≥ m} C(t, i) / 2^t) with m = max(k, t − k),
 * and p = 1 when k = t/2 (the test statistic is symmetric). BigInt sum, converted to a double at the end.
 */
function exactTwoSidedHalf(k: number, t: number): number {
  if (t === 0 || 2 * k === t) return 1;
  const m = Math.max(k, t - k);
  let c = 1n; // C(t, 0)
  let tail = 0n;
  for (let i = 0; i <= t; i++) {
    if (i >= m) tail += c;
    c = (c * BigInt(t - i)) / BigInt(i + 1);
  }
  // 2·tail / 2^t as a double, without overflowing Number(tail) for large t.
  const shift = Math.max(0, tail.toString(2).length - 60);
  return Math.min(1, (2 * Number(tail >> BigInt(shift))) / 2 ** (t - shift));
}

describe('PREDICT (Cohen et al.): binomial test of the top two counts', () => {
  it.each([
    [[0, 60, 40], 60, 40],
    [[61, 0, 39], 61, 39],
    [[3, 9, 1, 7], 9, 7],
    [[500, 480, 20], 500, 480],
    [[5000, 4700, 300], 5000, 4700],
    [[0, 0, 12, 0], 12, 0],
  ])('counts %j → p-value of nA = %i against nA + nB = %i + %i at ½ matches the exact BigInt sum', (counts, nA, nB) => {
    const n = counts.reduce((a, b) => a + b, 0);
    const p = predictFromCounts(counts, n, 0.05);
    expect(p.nA).toBe(nA);
    expect(p.nB).toBe(nB);
    expect(p.n).toBe(n);
    const exact = exactTwoSidedHalf(nA, nA + nB);
    expect(Math.abs(p.pValue - exact)).toBeLessThanOrEqual(1e-12 * exact + 1e-300);
  });

  it('abstains exactly when p > α: 60 vs 40 (p ≈ 0.0569) abstains at α = 0.05, 61 vs 39 (p ≈ 0.0352) answers', () => {
    expect(exactTwoSidedHalf(60, 100)).toBeCloseTo(0.056887, 5);
    expect(exactTwoSidedHalf(61, 100)).toBeCloseTo(0.035200, 5);
    expect(predictFromCounts([0, 60, 40], 100, 0.05).prediction).toBeNull();
    expect(predictFromCounts([0, 61, 39], 100, 0.05).prediction).toBe(1);
    // the same counts at a stricter α abstain; a tie always abstains
    expect(predictFromCounts([0, 61, 39], 100, 0.001).prediction).toBeNull();
    expect(predictFromCounts([50, 50], 100, 0.5).prediction).toBeNull();
    // every (nA, nB) with nA + nB = 30: the rule is p > α ⇒ null, against the exact p-value
    for (let a = 15; a <= 30; a++) {
      const p = predictFromCounts([30 - a, a], 30, 0.05);
      expect(p.prediction).toBe(exactTwoSidedHalf(a, 30) > 0.05 ? null : 1);
    }
  });
});

describe('PREDICT and CERTIFY draw from independent substreams', () => {
  it('substream 0 is the stream itself; substream 1 is a different sequence', () => {
    const a = new Rng(7, 3);
    const b = new Rng(7, 3, SUBSTREAM.certify);
    const c = new Rng(7, 3, SUBSTREAM.predict);
    const xs = Array.from({ length: 64 }, () => a.uint32());
    expect(Array.from({ length: 64 }, () => b.uint32())).toEqual(xs);
    const ys = Array.from({ length: 64 }, () => c.uint32());
    expect(ys.filter((y, i) => y === xs[i]).length).toBe(0);
    expect(() => new Rng(0, 0, -1)).toThrow(/substream/);
    // CERTIFY's stream is the one every committed result was drawn from (values from before substreams existed).
    const r = new Rng(0, 0);
    expect(Array.from({ length: 4 }, () => r.uint32())).toEqual([1490203619, 2579130886, 3282631836, 3338778624]);
  });

  /** A base classifier whose vote depends on which pixels were retained: counts depend on the samples drawn. */
  const make = () =>
    new SmoothedClassifier(
      new AblationPerturbation({ retain: 45 }),
      new MultichannelEncoder(),
      new FunctionClassifier({
        numClasses: 4,
        inputShape: [2, 28, 28],
        predict: (row) => {
          let s = 0;
          for (let i = 0; i < 392; i++) s += row[784 + i]!; // retained pixels in the top half
          return Math.min(3, Math.floor(s / 8));
        },
      }),
      new CohenCertifier({ alpha: 0.05, n0: 100, n: 3000 }),
      { seed: 5, batchSize: 700 },
    );
  const x = () => {
    const data = new Float32Array(784);
    for (let i = 0; i < 784; i++) data[i] = ((i * 37) % 101) / 100;
    return { data, shape: [1, 28, 28] as const };
  };

  it('certifyAndPredict = certify (unchanged) + predict (its own samples), and predict ≠ the certify stream’s votes', async () => {
    const s = make();
    const both = await s.certifyAndPredict(x(), { index: 4 });
    expect(both.certificate).toEqual(await s.certify(x(), { index: 4 }));
    expect(both.prediction).toEqual(await s.predict(x(), { index: 4 }));
    expect(both.prediction.n).toBe(3000);
    // The certify stream's first 3000 votes (what PREDICT would have counted on the same stream) differ.
    const certifyStreamVotes = await s.votes(x(), 3000, { index: 4 });
    const top = Array.from(certifyStreamVotes).sort((a, b) => b - a);
    expect([both.prediction.nA, both.prediction.nB]).not.toEqual([top[0], top[1]]);
    // --predict-n: PREDICT's own sample count
    const other = await s.certifyAndPredict(x(), { index: 5, predictN: 1234 });
    expect(other.prediction.n).toBe(1234);
    expect(other.prediction.nA + other.prediction.nB).toBeLessThanOrEqual(1234);
    await expect(s.certifyAndPredict(x(), { predictN: 0 })).rejects.toThrow(/predictN/);
  });
});
