import { describe, expect, it } from 'vitest';
import {
  AblationPerturbation,
  CohenCertifier,
  FunctionClassifier,
  GaussianPerturbation,
  IdentityEncoder,
  LeeNoisePerturbation,
  MeanEncoder,
  MultichannelEncoder,
  PerturbedBatch,
  Rng,
  SmoothedClassifier,
  gaussianBound,
  maxCertifiedRadius,
  type BaseClassifier,
} from '../src/index.js';

const shape = [1, 28, 28] as const;
const image = () => {
  const data = new Float32Array(784);
  for (let i = 0; i < 784; i++) data[i] = ((i * 37) % 101) / 100;
  return { data, shape };
};

/** Classifies by the parity of the number of retained bright pixels: noisy but deterministic in its input. */
const parityClassifier = () =>
  new FunctionClassifier({
    numClasses: 3,
    inputShape: [2, 28, 28],
    predict: (row) => {
      let bright = 0;
      for (let i = 0; i < 784; i++) if (row[i]! > 0.5) bright++;
      return bright % 3 === 0 ? 0 : bright % 3 === 1 ? 1 : 2;
    },
  });

const make = (batchSize: number, seed = 1) =>
  new SmoothedClassifier(new AblationPerturbation({ retain: 45 }), new MultichannelEncoder(), parityClassifier(), new CohenCertifier({ alpha: 0.05, n0: 100, n: 2000 }), { batchSize, seed });

describe('ablation sampling', () => {
  it('retains exactly k locations per sample, all channels together, values untouched', () => {
    const pert = new AblationPerturbation({ retain: 45 });
    const rgb = [3, 10, 10] as const;
    const x = Float32Array.from({ length: 300 }, (_, i) => (i % 7) / 7);
    const batch = new PerturbedBatch(rgb, 50);
    for (const seed of [1, 2]) { // the second draw reuses the buffer: nothing of the first may survive
      pert.sample(x, rgb, new Rng(seed), batch, 50);
      for (let s = 0; s < 50; s++) {
        let kept = 0;
        for (let p = 0; p < 100; p++) {
          const on = batch.kept[s * 100 + p]!;
          kept += on;
          for (let c = 0; c < 3; c++) expect(batch.values[s * 300 + c * 100 + p]).toBe(on ? x[c * 100 + p] : 0);
        }
        expect(kept).toBe(45);
      }
    }
  });

  it('is uniform over locations (chi-square over 20 000 samples)', () => {
    const pert = new AblationPerturbation({ retain: 5 });
    const sh = [1, 5, 5] as const;
    const batch = new PerturbedBatch(sh, 20_000);
    pert.sample(new Float32Array(25), sh, new Rng(2), batch, 20_000);
    const hits = new Float64Array(25);
    for (let i = 0; i < batch.kept.length; i++) hits[i % 25] += batch.kept[i]!;
    const expected = (20_000 * 5) / 25;
    const chi2 = hits.reduce((s, h) => s + (h - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(51.2); // 99.9 % quantile of χ²(24)
  });

  it('shared mode uses one mask for the whole batch (the paper’s training mode)', () => {
    const pert = new AblationPerturbation({ retain: 10 });
    const batch = new PerturbedBatch(shape, 8);
    pert.sample(image().data, shape, new Rng(3), batch, 8, { sharedAcrossBatch: true });
    for (let s = 1; s < 8; s++) expect(batch.kept.subarray(s * 784, (s + 1) * 784)).toEqual(batch.kept.subarray(0, 784));
  });
});

describe('encoders', () => {
  const batch = new PerturbedBatch([1, 1, 3], 1);
  batch.values.set([0.25, 0, 1]);
  batch.kept.set([1, 0, 1]);
  it('multichannel: (s, 1−s), NULL = (0, 0)', () => {
    const out = new Float32Array(6);
    new MultichannelEncoder().encode(batch, 1, out);
    expect([...out]).toEqual([0.25, 0, 1, 0.75, 0, 0]);
  });
  it('mean: NULL = fill value', () => {
    const out = new Float32Array(3);
    new MeanEncoder([0.1307]).encode(batch, 1, out);
    expect(out[0]).toBeCloseTo(0.25);
    expect(out[1]).toBeCloseTo(0.1307);
    expect(out[2]).toBeCloseTo(1);
  });
  it('normalization applies before encoding (ImageNet convention)', () => {
    const out = new Float32Array(6);
    new MultichannelEncoder({ mean: [0.5], std: [0.25] }).encode(batch, 1, out);
    expect([...out]).toEqual([-1, 0, 2, 2, 0, -1]);
    const id = new Float32Array(3);
    new IdentityEncoder({ mean: [0.5], std: [0.5] }).encode(batch, 1, id);
    expect([...id]).toEqual([-0.5, -1, 1]);
  });
});

describe('SmoothedClassifier', () => {
  it('same seed ⇒ identical certificates; independent of batch size', async () => {
    const a = await make(128).certify(image(), { index: 3 });
    const b = await make(128).certify(image(), { index: 3 });
    const c = await make(777).certify(image(), { index: 3 });
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    const other = await make(128, 2).certify(image(), { index: 3 });
    expect(other.nA).not.toBe(a.nA);
  });

  it('an image’s certificate does not depend on the images certified before it', async () => {
    const s = make(256);
    await s.certify(image(), { index: 0 });
    const later = await s.certify(image(), { index: 5 });
    const fresh = await make(256).certify(image(), { index: 5 });
    expect(later).toEqual(fresh);
  });

  it('streams fixed-size batches: the classifier never sees more than batchSize rows', async () => {
    const sizes: number[] = [];
    const inner = parityClassifier();
    const spy: BaseClassifier = {
      type: 'spy',
      numClasses: 3,
      checkInputShape: (s) => inner.checkInputShape(s),
      classify: (input, count, s) => {
        sizes.push(count);
        return inner.classify(input, count, s);
      },
      dispose: () => {},
    };
    const s = new SmoothedClassifier(new AblationPerturbation({ retain: 45 }), new MultichannelEncoder(), spy, new CohenCertifier({ alpha: 0.05, n0: 10, n: 1000 }), { batchSize: 300 });
    await s.certify(image());
    expect(sizes).toEqual([10, 300, 300, 300, 100]);
  });

  it('predict abstains or answers with a binomial test', async () => {
    const constant = new FunctionClassifier({ numClasses: 10, predict: () => 7 });
    const s = new SmoothedClassifier(new LeeNoisePerturbation({ levels: 256, keepProb: 0.2 }), new IdentityEncoder(), constant, new CohenCertifier({ alpha: 0.05, n0: 10, n: 500 }));
    const p = await s.predict(image());
    expect(p.prediction).toBe(7);
    expect(p.nA).toBe(500);
  });

  it('certifies a constant classifier with the Gaussian bound’s closed form σΦ⁻¹(pA)', async () => {
    const constant = new FunctionClassifier({ numClasses: 2, predict: () => 1 });
    const sigma = 0.5;
    const s = new SmoothedClassifier(new GaussianPerturbation({ sigma }), new IdentityEncoder(), constant, new CohenCertifier({ alpha: 0.001, n0: 10, n: 1000 }));
    const cert = await s.certify(image());
    expect(cert.prediction).toBe(1);
    expect(cert.unit).toBe('l2');
    // Cohen's closed form: R = σ Φ⁻¹(pA_lower); pA_lower = α^(1/n)
    const pL = 0.001 ** (1 / 1000);
    const closedForm = sigma * inverseNormal(pL);
    expect(cert.radius!).toBeLessThanOrEqual(closedForm);
    expect(cert.radius!).toBeGreaterThan(closedForm - 1e-6);
    expect(maxCertifiedRadius({ bound: gaussianBound(sigma), pLower: 0.5 })).toBeNull();
  });
});

// Acklam-free independent check: bisection on erf-based Φ (Abramowitz–Stegun 7.1.26 is too coarse, so use
// a continued series via numeric integration).
function inverseNormal(p: number): number {
  const cdf = (x: number) => {
    // Φ(x) by Simpson integration of the density from -12 to x (accurate to ~1e-12 here)
    const a = -12;
    const steps = 20000;
    const h = (x - a) / steps;
    let s = 0;
    for (let i = 0; i <= steps; i++) {
      const t = a + i * h;
      const w = i === 0 || i === steps ? 1 : i % 2 ? 4 : 2;
      s += w * Math.exp(-t * t / 2);
    }
    return (s * h) / 3 / Math.sqrt(2 * Math.PI);
  };
  let lo = -10;
  let hi = 10;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
