import { describe, expect, it } from 'vitest';
import {
  BandPerturbation,
  ConfigError,
  FunctionClassifier,
  MultichannelEncoder,
  PartitionPerturbation,
  PerturbedBatch,
  Rng,
  SmoothedClassifier,
  VoteGapCertifier,
  createContainer,
  definePlugin,
  topTwo,
  voteGapHolds,
  type Dataset,
  type RobustnessBound,
  type Shape,
  type VoteSampler,
} from '../src/index.js';

/** These tests pass configs the typed AblateConfig would reject at compile time (they test run-time validation). */
const createLoose = createContainer as (config: unknown, options?: Parameters<typeof createContainer>[1]) => ReturnType<typeof createContainer>;

/** Independent reference: the multichannel row of x with only `kept` locations retained. */
function encodeRow(x: Float32Array, shape: Shape, kept: (p: number) => boolean): Float32Array {
  const [C, H, W] = shape;
  const d = H * W;
  const row = new Float32Array(2 * C * d);
  for (let c = 0; c < C; c++) {
    for (let p = 0; p < d; p++) {
      if (!kept(p)) continue;
      row[c * d + p] = x[c * d + p]!;
      row[(C + c) * d + p] = 1 - x[c * d + p]!;
    }
  }
  return row;
}

/** Independent reference of the smoothed prediction: argmax of the votes, ties to the lower class. */
function referencePrediction(x: Float32Array, shape: Shape, parts: ((p: number) => boolean)[], f: (row: Float32Array) => number, classes: number): number {
  const votes = new Array<number>(classes).fill(0);
  for (const kept of parts) votes[f(encodeRow(x, shape, kept))]++;
  let best = 0;
  for (let c = 1; c < classes; c++) if (votes[c]! > votes[best]!) best = c;
  return best;
}

const smoothed = (perturbation: PartitionPerturbation | BandPerturbation, shape: Shape, f: (row: Float32Array) => number, classes: number, batchSize = 4) =>
  new SmoothedClassifier(perturbation, new MultichannelEncoder(), new FunctionClassifier({ numClasses: classes, inputShape: [2 * shape[0], shape[1], shape[2]], predict: f }), new VoteGapCertifier(), {
    batchSize,
  });

/** All images at Hamming distance ≤ r from x over `levels` values (each differing location takes another level). */
function* neighbours(x: Float32Array, levels: number[], r: number, from = 0): Generator<{ image: Float32Array; distance: number }> {
  yield { image: x, distance: 0 };
  if (r === 0) return;
  for (let p = from; p < x.length; p++) {
    for (const v of levels) {
      if (v === x[p]) continue;
      const y = Float32Array.from(x);
      y[p] = v;
      for (const n of neighbours(y, levels, r - 1, p + 1)) yield { image: n.image, distance: n.distance + 1 };
    }
  }
}

describe('partition perturbation', () => {
  it('stride layout: ablation t keeps exactly the locations i ≡ t (mod T), all channels, the rest NULL', () => {
    const shape: Shape = [3, 4, 5];
    const x = Float32Array.from({ length: 60 }, (_, i) => (i + 1) / 61);
    const en = new PartitionPerturbation({ parts: 6 }).enumeration(shape);
    expect(en.count).toBe(6);
    const batch = new PerturbedBatch(shape, 6);
    en.fill(x, shape, 0, 6, batch);
    for (let t = 0; t < 6; t++) {
      for (let p = 0; p < 20; p++) {
        const on = p % 6 === t ? 1 : 0;
        expect(batch.kept[t * 20 + p]).toBe(on);
        for (let c = 0; c < 3; c++) expect(batch.values[t * 60 + c * 20 + p]).toBe(on ? x[c * 20 + p] : 0);
      }
    }
  });

  it('random layout: a balanced partition fixed by its seed', () => {
    const shape: Shape = [1, 28, 28];
    const a = new PartitionPerturbation({ parts: 39, layout: 'random', seed: 3 }).partOf(shape);
    const b = new PartitionPerturbation({ parts: 39, layout: 'random', seed: 3 }).partOf(shape);
    const c = new PartitionPerturbation({ parts: 39, layout: 'random', seed: 4 }).partOf(shape);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const sizes = new Array<number>(39).fill(0);
    for (const t of a) sizes[t]++;
    expect(Math.min(...sizes)).toBe(20); // 784 = 39·20 + 4
    expect(Math.max(...sizes)).toBe(21);
    expect(sizes.filter((s) => s === 21)).toHaveLength(4);
    expect([...a].some((t, i) => t !== i % 39)).toBe(true);
  });

  it('rejects T > d and bad layouts, naming the field', () => {
    expect(() => new PartitionPerturbation({ parts: 10 }).validate([1, 3, 3])).toThrow(/parts.*T = 10 parts exceed the d = 9/);
    expect(() => new PartitionPerturbation({ parts: 0 })).toThrow(/parts/);
    expect(() => new PartitionPerturbation({ parts: 2, layout: 'diagonal' as any })).toThrow(/layout/);
  });

  it('sample draws whole parts uniformly (the distribution the enumeration lists)', () => {
    const shape: Shape = [1, 4, 4];
    const pert = new PartitionPerturbation({ parts: 4 });
    const batch = new PerturbedBatch(shape, 4000);
    pert.sample(new Float32Array(16).fill(1), shape, new Rng(7), batch, 4000);
    const seen = [0, 0, 0, 0];
    for (let s = 0; s < 4000; s++) {
      const first = batch.kept.subarray(s * 16, s * 16 + 16).indexOf(1);
      for (let p = 0; p < 16; p++) expect(batch.kept[s * 16 + p]).toBe(p % 4 === first ? 1 : 0);
      seen[first]++;
    }
    for (const n of seen) expect(Math.abs(n - 1000)).toBeLessThan(4 * Math.sqrt(750)); // 4σ of Binomial(4000, ¼)
  });
});

describe('band perturbation', () => {
  it('column, row and block ablations wrap around', () => {
    const shape: Shape = [1, 3, 4];
    const x = Float32Array.from({ length: 12 }, (_, i) => i + 1);
    const kept = (pert: BandPerturbation) => {
      const en = pert.enumeration(shape);
      const batch = new PerturbedBatch(shape, en.count);
      en.fill(x, shape, 0, en.count, batch);
      return Array.from({ length: en.count }, (_, t) => [...batch.kept.subarray(t * 12, t * 12 + 12)].flatMap((k, p) => (k ? [p] : [])));
    };
    const cols = kept(new BandPerturbation({ width: 2, orientation: 'column' }));
    expect(cols).toHaveLength(4);
    expect(cols[3]).toEqual([0, 3, 4, 7, 8, 11]); // columns 3 and 0
    const rows = kept(new BandPerturbation({ width: 2, orientation: 'row' }));
    expect(rows).toHaveLength(3);
    expect(rows[2]).toEqual([0, 1, 2, 3, 8, 9, 10, 11]); // rows 2 and 0
    const blocks = kept(new BandPerturbation({ width: 2, orientation: 'block' }));
    expect(blocks).toHaveLength(12);
    expect(blocks[11]).toEqual([0, 3, 8, 11]); // rows {2,0} × columns {3,0}
  });

  it('Δ(m) = m + b − 1 bands, (m + b − 1)² blocks, capped by the image', () => {
    const shape: Shape = [1, 28, 28];
    const col = new BandPerturbation({ width: 4 }).enumeration(shape);
    expect([0, 1, 5, 25, 28].map((m) => col.affected(m))).toEqual([0, 4, 8, 28, 28]);
    const block = new BandPerturbation({ width: 4, orientation: 'block' }).enumeration(shape);
    expect(block.count).toBe(784);
    expect([0, 1, 5, 26].map((m) => block.affected(m))).toEqual([0, 16, 64, 784]);
  });

  it('1-D inputs and too-wide bands are errors naming the field', () => {
    expect(() => new BandPerturbation({ width: 2 }).validate([1, 1, 20])).toThrow(expect.objectContaining({ field: 'type' }));
    expect(() => new BandPerturbation({ width: 5 }).validate([1, 8, 4])).toThrow(expect.objectContaining({ field: 'width' }));
    expect(() => new BandPerturbation({ width: 5, orientation: 'row' }).validate([1, 8, 4])).not.toThrow();
    expect(() => new BandPerturbation({ width: 2, orientation: 'diagonal' as any })).toThrow(expect.objectContaining({ field: 'orientation' }));
  });
});

describe('vote-gap certificate', () => {
  it('the tie rule: a tie goes to the lower class index, so the condition is strict exactly when B < A', () => {
    // n_A − n_B = 2Δ: certified when A < B, not when B < A.
    expect(voteGapHolds(9, 7, 0, 1, 1)).toBe(true);
    expect(voteGapHolds(9, 7, 1, 0, 1)).toBe(false);
    expect(voteGapHolds(10, 7, 1, 0, 1)).toBe(true);
    expect(topTwo([5, 5, 0])).toEqual({ a: 0, b: 1 });
    expect(topTwo([3, 7, 7, 1])).toEqual({ a: 1, b: 2 });
    expect(topTwo([7, 2, 7])).toEqual({ a: 0, b: 2 });
    expect(topTwo([1, 9, 9, 9])).toEqual({ a: 1, b: 2 });
  });

  const certifyCounts = (counts: number[], maxRadius = 100) => {
    const T = counts.reduce((s, c) => s + c, 0);
    const sampler: VoteSampler = async () => new Uint32Array(0);
    sampler.enumerate = async () => ({ counts: Uint32Array.from(counts), total: T, affected: (rho) => Math.min(rho, T) });
    const bound = { unit: 'pixels', domain: 'integer', maxRadius } as RobustnessBound;
    return new VoteGapCertifier().certify(sampler, bound);
  };

  it('certifies the largest ρ with n_A − ρ > n_B + ρ (ties to the lower index), from exact counts', async () => {
    expect(await certifyCounts([9, 7])).toMatchObject({ prediction: 0, radius: 1, nA: 9, nB: 7, n: 16, samples: 16, alpha: 0, deterministic: true, pLower: 9 / 16, pUpper: 7 / 16 });
    expect(await certifyCounts([7, 9])).toMatchObject({ prediction: 1, radius: 0 });
    expect(await certifyCounts([7, 10])).toMatchObject({ prediction: 1, radius: 1 });
    expect(await certifyCounts([5, 5, 0])).toMatchObject({ prediction: 0, radius: 0 });
    // 30 − 6 = 24 = 2·12 with B = 3 > A = 2: the tie at ρ = 12 goes to A.
    expect(await certifyCounts([0, 3, 30, 6])).toMatchObject({ prediction: 2, radius: 12 });
    expect(await certifyCounts([6, 3, 30, 0]).then((c) => c.radius)).toBe(11); // B = 0 < A: strict
    expect(await certifyCounts([39, 0], 784)).toMatchObject({ radius: 19 });
    // nB is the runner-up of the tie rule: the lowest index among tied runners-up; 0 with a single class
    expect(await certifyCounts([3, 7, 7, 1])).toMatchObject({ prediction: 1, nA: 7, nB: 7, radius: 0 });
    expect(await certifyCounts([2, 9, 4, 4])).toMatchObject({ prediction: 1, nA: 9, nB: 4, radius: 2 });
    expect(await certifyCounts([5])).toMatchObject({ prediction: 0, nA: 5, nB: 0 });
  });

  it('refuses a sampler that cannot enumerate', async () => {
    const sampler: VoteSampler = async () => new Uint32Array(2);
    await expect(new VoteGapCertifier().certify(sampler, { maxRadius: 1, domain: 'integer', unit: 'pixels' } as RobustnessBound)).rejects.toThrow(/enumerates its ablations/);
  });
});

describe('exhaustive: no change within the certificate flips the vote', () => {
  const levels = [0, 0.5, 1];
  const shape: Shape = [1, 3, 3];
  /** Base classifier voting for the level of the first retained pixel: with T = 9 single-pixel parts the votes are
   *  the image's histogram, where the certificate is tight. */
  const level = (row: Float32Array) => {
    for (let p = 0; p < 9; p++) if (row[p]! > 0 || row[9 + p]! > 0) return Math.round(row[p]! * 2);
    return 0;
  };
  /** An arbitrary (hash) classifier, biased to class 0 so that some certificates are non-trivial: the certificate
   *  must hold for any base classifier. */
  const hash = (row: Float32Array) => {
    let h = 7;
    for (let i = 0; i < row.length; i++) h = (h * 31 + Math.round(row[i]! * 2) * (i + 3)) % 1009;
    return h % 7 < 5 ? 0 : h % 3;
  };

  it.each([
    ['stride T = 9, histogram classifier (tight)', 9, level, true],
    ['stride T = 3, hash classifier', 3, hash, false],
    ['stride T = 9, hash classifier', 9, hash, false],
  ] as const)('%s', async (_name, T, f, tight) => {
    const pert = new PartitionPerturbation({ parts: T });
    const parts = Array.from({ length: T }, (_, t) => (p: number) => p % T === t);
    const g = smoothed(pert, shape, f, 3, 2);
    const rng = new Rng(11);
    let certifiedAboveZero = 0;
    let flipsJustOutside = 0;
    for (let trial = 0; trial < 30; trial++) {
      // Images skewed towards one level so that certificates are non-trivial.
      const major = levels[trial % 3]!;
      const x = Float32Array.from({ length: 9 }, () => (rng.float() < 0.7 ? major : levels[rng.int(3)]!));
      const cert = await g.certify({ data: x, shape });
      expect(cert.prediction).toBe(referencePrediction(x, shape, parts, f, 3));
      const R = cert.radius!;
      if (R > 0) certifiedAboveZero++;
      let flipped = false;
      for (const { image, distance } of neighbours(x, levels, Math.min(R + 1, 9))) {
        const y = referencePrediction(image, shape, parts, f, 3);
        if (distance <= R) expect(y, `distance ${distance} ≤ R = ${R} flipped ${Array.from(x)} → ${Array.from(image)}`).toBe(cert.prediction);
        else if (y !== cert.prediction) flipped = true;
      }
      if (tight && R < 9) expect(flipped, `R = ${R} should be tight for the histogram classifier`).toBe(true);
      if (flipped) flipsJustOutside++;
      await new Promise((done) => setImmediate(done)); // let the worker's event loop breathe between images
    }
    expect(certifiedAboveZero).toBeGreaterThan(tight ? 5 : 1);
    if (tight) expect(flipsJustOutside).toBeGreaterThan(5);
  });

  it('bands and blocks: no m×m patch with m ≤ R flips the vote', async () => {
    const shape5: Shape = [1, 5, 5];
    const anyBright = (row: Float32Array) => {
      let s = 0;
      for (let p = 0; p < 25; p++) if (row[p]! > 0.5) s++;
      return s === 0 ? 0 : s === 1 ? 1 : 2;
    };
    for (const [orientation, width] of [
      ['column', 1],
      ['column', 2],
      ['row', 1],
      ['block', 2],
    ] as const) {
      const pert = new BandPerturbation({ width, orientation });
      const en = pert.enumeration(shape5);
      const batch = new PerturbedBatch(shape5, en.count);
      const g = smoothed(pert, shape5, anyBright, 3, 3);
      const rng = new Rng(5);
      let nonTrivial = 0;
      for (let trial = 0; trial < 12; trial++) {
        const x = Float32Array.from({ length: 25 }, () => (rng.float() < 0.12 ? 1 : 0));
        const cert = await g.certify({ data: x, shape: shape5 });
        const members = (img: Float32Array) => {
          en.fill(img, shape5, 0, en.count, batch);
          return Array.from({ length: en.count }, (_, t) => (p: number) => batch.kept[t * 25 + p] === 1);
        };
        const parts = members(x);
        expect(cert.prediction).toBe(referencePrediction(x, shape5, parts, anyBright, 3));
        const R = cert.radius!;
        if (R > 0) nonTrivial++;
        for (let m = 1; m <= R; m++) {
          for (let r0 = 0; r0 + m <= 5; r0++) {
            for (let c0 = 0; c0 + m <= 5; c0++) {
              for (let bits = 0; bits < 2 ** (m * m); bits++) {
                const y = Float32Array.from(x);
                for (let k = 0; k < m * m; k++) y[(r0 + Math.floor(k / m)) * 5 + c0 + (k % m)] = (bits >> k) & 1;
                expect(referencePrediction(y, shape5, parts, anyBright, 3)).toBe(cert.prediction);
              }
            }
          }
        }
        await new Promise((done) => setImmediate(done));
      }
      expect(nonTrivial, `${orientation} b=${width}`).toBeGreaterThan(0);
    }
  });
});

describe('enumeration through the engine', () => {
  it('the order of the T ablations does not depend on the batch size', async () => {
    const shape: Shape = [1, 6, 6];
    for (const pert of [new PartitionPerturbation({ parts: 7, layout: 'random', seed: 2 }), new BandPerturbation({ width: 2, orientation: 'block' })]) {
      const orders: string[][] = [];
      for (const batchSize of [1, 5, 7, 64]) {
        const seen: string[] = [];
        const f = (row: Float32Array) => {
          seen.push([...row.subarray(36, 72)].map((v) => (v > 0 ? 1 : 0)).join(''));
          return seen.length % 3;
        };
        const g = smoothed(pert, shape, f, 3, batchSize);
        const cert = await g.certify({ data: new Float32Array(36), shape });
        expect(cert.samples).toBe(pert.enumeration(shape).count);
        orders.push(seen);
      }
      for (const o of orders.slice(1)) expect(o).toEqual(orders[0]);
      // fill(first, count) writes the same rows as the full enumeration.
      const en = pert.enumeration(shape);
      const x = Float32Array.from({ length: 36 }, (_, i) => i / 36);
      const all = new PerturbedBatch(shape, en.count);
      en.fill(x, shape, 0, en.count, all);
      const part = new PerturbedBatch(shape, 3);
      en.fill(x, shape, 4, 3, part);
      expect(part.values).toEqual(all.values.subarray(4 * 36, 7 * 36));
      expect(part.kept).toEqual(all.kept.subarray(4 * 36, 7 * 36));
    }
  });

  it('sampling certifiers still work with an enumerable perturbation (its bound: p ± Δ(ρ)/T)', () => {
    const bound = new PartitionPerturbation({ parts: 10 }).bound([1, 28, 28]);
    expect(bound.lower(0.95, 2)).toBeCloseTo(0.75, 12);
    expect(bound.lower(0.95, 2)).toBeLessThanOrEqual(0.75);
    expect(bound.upper(0.05, 2)).toBeGreaterThanOrEqual(0.25);
    expect(bound.unit).toBe('pixels');
    const band = new BandPerturbation({ width: 4 }).bound([1, 28, 28]);
    expect(band).toMatchObject({ unit: 'patch side', threatModel: 'patch', maxRadius: 28 });
    expect(band.lower(1, 5)).toBeCloseTo(1 - 8 / 28, 12);
  });
});

describe('config', () => {
  const classifierPlugin = definePlugin<'classifier', Record<string, never>>({
    kind: 'classifier',
    type: 'fixed',
    description: 'always class 3',
    schema: { properties: {} },
    create: () => new FunctionClassifier({ numClasses: 10, inputShape: [2, 28, 28], predict: () => 3 }),
  });
  const datasetPlugin = definePlugin<'dataset', { h?: number }>({
    kind: 'dataset',
    type: 'tiny',
    description: 'zeros',
    schema: { properties: { h: { type: 'integer' } } },
    create: (o): Dataset => {
      const shape: Shape = [1, o.h ?? 28, 28];
      return { name: 'tiny', size: 1, shape, numClasses: 10, get: () => ({ image: { data: new Float32Array(shape[1] * 28), shape }, label: 3 }) };
    },
  });
  const cfg = (perturbation: object, certifier: object = { type: 'vote-gap' }, dataset?: object) => ({
    perturbation,
    encoder: { type: 'multichannel' },
    classifier: { type: 'fixed' },
    certifier,
    ...(dataset ? { dataset } : {}),
  });
  const plugins = [classifierPlugin, datasetPlugin];

  it('partition + vote-gap runs through createContainer', async () => {
    const rt = await createLoose(cfg({ type: 'partition', parts: 39 }), { plugins });
    const cert = await rt.smoothed.certify({ data: new Float32Array(784), shape: [1, 28, 28] });
    expect(cert).toMatchObject({ prediction: 3, radius: 19, samples: 39, n: 39, deterministic: true, alpha: 0, unit: 'pixels' });
    const band = await createLoose(cfg({ type: 'band', width: 4, orientation: 'block' }), { plugins });
    // 784 unanimous votes: (m + 3)² ≤ 392 ⇔ m ≤ 16.
    expect(await band.smoothed.certify({ data: new Float32Array(784), shape: [1, 28, 28] })).toMatchObject({ radius: 16, samples: 784, unit: 'patch side' });
  });

  it('wrong combinations are config errors naming the field', async () => {
    await expect(createLoose(cfg({ type: 'ablation', retain: 20 }), { plugins })).rejects.toMatchObject({ issues: [{ path: '/certifier/type', message: expect.stringMatching(/enumerates.*"ablation" only samples/) }] });
    await expect(createLoose(cfg({ type: 'partition', parts: 785 }, undefined, { type: 'tiny' }), { plugins })).rejects.toMatchObject({ issues: [{ path: '/perturbation/parts' }] });
    await expect(createLoose(cfg({ type: 'band', width: 2 }, undefined, { type: 'tiny', h: 1 }), { plugins })).rejects.toMatchObject({ issues: [{ path: '/perturbation/type' }] });
    await expect(createLoose(cfg({ type: 'band', width: 2, orientation: 'diagonal' }), { plugins })).rejects.toBeInstanceOf(ConfigError);
    await expect(createLoose(cfg({ type: 'partition', parts: 4 }, { type: 'vote-gap', n: 100 }), { plugins })).rejects.toMatchObject({ issues: [expect.objectContaining({ path: expect.stringMatching(/certifier/) })] });
  });
});
