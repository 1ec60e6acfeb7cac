import { describe, expect, it } from 'vitest';
import {
  AblationPerturbation,
  CohenCertifier,
  ConfigError,
  FunctionClassifier,
  IdentityEncoder,
  InputError,
  PointwiseAttack,
  Rng,
  SUBSTREAM,
  SmoothedClassifier,
  baseClassifierDecider,
  changedLocations,
  confirmDecider,
  confirmStream,
  predictFromCounts,
  createContainer,
  definePlugin,
  predictDecider,
  queryStream,
  type AttackProgress,
  type Decide,
  type Image,
  type QueryKey,
  type Shape,
} from '../src/index.js';

/** These tests pass configs the typed AblateConfig would reject at compile time (they test run-time validation). */
const createLoose = createContainer as (config: unknown, options?: Parameters<typeof createContainer>[1]) => ReturnType<typeof createContainer>;

const shape: Shape = [1, 8, 8];
const d = 64;
/** A grid image: the pixel set S at mid-gray 128/255 (salt and pepper both change it), the rest arbitrary levels. */
const S = [3, 10, 17, 22, 29, 36, 41, 50, 55, 60];
function original(): Image {
  const data = new Float32Array(d);
  for (let i = 0; i < d; i++) data[i] = ((i * 97) % 256) / 255;
  for (const i of S) data[i] = 128 / 255;
  return { data, shape };
}

/** Known boundary: class 1 once at least m pixels of S differ from the original, else class 0 (the label). */
const thresholdPredict = (x0: Image, m: number) => (row: Float32Array) => {
  let changed = 0;
  for (const i of S) if (row[i] !== x0.data[i]) changed++;
  return changed >= m ? 1 : 0;
};
const thresholdClassifier = (x0: Image, m: number) =>
  new FunctionClassifier({ numClasses: 2, inputShape: shape, predict: thresholdPredict(x0, m) });

/** A noisy oracle: the smoothed classifier under real ablation (k = 16 of 64) of the classifier "some location of S changed from x". */
const noisyThreshold = (x: Image) =>
  new SmoothedClassifier(new AblationPerturbation({ retain: 16 }), new IdentityEncoder(), new FunctionClassifier({ numClasses: 2, predict: (row) => {
    let changed = 0;
    for (const i of S) if (row[i] !== 0 && row[i] !== x.data[i]) changed++;
    return changed >= 1 ? 1 : 0;
  } }), new CohenCertifier({ alpha: 0.05, n0: 10, n: 200 }), { seed: 7, batchSize: 64 });

describe('PointwiseAttack on a classifier with a known L0 boundary', () => {
  for (const m of [1, 3, 7]) {
    it(`finds exactly m = ${m} changed pixels, all of them in S`, async () => {
      const x = original();
      const decide = baseClassifierDecider(thresholdClassifier(x, m), new IdentityEncoder());
      const r = await new PointwiseAttack({ restarts: 3 }).run(x, 0, decide, { index: 5, seed: 1 });
      expect(r.magnitude).toBe(m);
      expect(r.perRestart).toEqual([m, m, m]);
      expect(r.prediction).toBe(1);
      const adv = r.adversarial!;
      expect(changedLocations(adv.data, x.data, shape)).toBe(m);
      for (let i = 0; i < d; i++) {
        if (adv.data[i] !== x.data[i]) {
          expect(S).toContain(i);
          // refinement: binary search leaves each remaining pixel one grid step from its original value
          expect(Math.abs(Math.round(adv.data[i]! * 255) - 128)).toBe(1);
        }
        expect(Number.isInteger(Math.round(adv.data[i]! * 255)) && Math.abs(adv.data[i]! * 255 - Math.round(adv.data[i]! * 255)) < 1e-4).toBe(true);
      }
      // the returned example is adversarial when re-checked
      expect((await decide(adv, { index: 0, restart: 0, query: 0 })).prediction).toBe(1);
      expect(r.samples).toBe(r.queries); // one forward pass per query
    });
  }

  it('without refinement, the remaining pixels keep their salt-and-pepper values (0 or 1)', async () => {
    const x = original();
    const r = await new PointwiseAttack({ restarts: 1, refine: false }).run(x, 0, baseClassifierDecider(thresholdClassifier(x, 4), new IdentityEncoder()), { seed: 3 });
    expect(r.magnitude).toBe(4);
    for (let i = 0; i < d; i++) if (r.adversarial!.data[i] !== x.data[i]) expect([0, 1]).toContain(r.adversarial!.data[i]);
  });

  it('counts abstaining as adversarial (the paper’s criterion)', async () => {
    const x = original();
    const f = thresholdPredict(x, 5);
    const decide: Decide = async (img) => ({ prediction: f(img.data) === 1 ? null : 0, samples: 10 });
    const r = await new PointwiseAttack({ restarts: 2 }).run(x, 0, decide);
    expect(r.magnitude).toBe(5);
    expect(r.prediction).toBeNull();
    expect(r.samples).toBe(10 * r.queries);
  });

  it('a misclassified original has magnitude 0 after one query; an unbreakable model gives null', async () => {
    const x = original();
    const wrong = await new PointwiseAttack().run(x, 1, baseClassifierDecider(thresholdClassifier(x, 3), new IdentityEncoder()));
    expect(wrong).toMatchObject({ magnitude: 0, restarts: 0, queries: 1, prediction: 0 });
    expect(wrong.adversarial!.data).toEqual(x.data);
    const constant: Decide = async () => ({ prediction: 0, samples: 1 });
    const none = await new PointwiseAttack({ restarts: 2, initSteps: 20 }).run(x, 0, constant);
    expect(none.magnitude).toBeNull();
    expect(none.adversarial).toBeNull();
    expect(none.perRestart).toEqual([null, null]);
    expect(none.queries).toBeLessThanOrEqual(1 + 2 * 20);
    expect(none.queries).toBeGreaterThan(2 * 15);
  });

  it('counts pixel locations, not channels, on a 3-channel image', async () => {
    const s3: Shape = [3, 4, 4];
    const data = new Float32Array(48).fill(128 / 255);
    const x = { data, shape: s3 };
    // class 1 once ≥ 2 locations have any channel changed
    const f = (row: Float32Array) => (changedLocations(row, data, s3) >= 2 ? 1 : 0);
    const r = await new PointwiseAttack({ restarts: 2 }).run(x, 0, async (img) => ({ prediction: f(img.data), samples: 1 }));
    expect(r.magnitude).toBe(2);
  });

  it('is deterministic for a seed, and each query gets its own stream', async () => {
    const x = original();
    const smoothed = noisyThreshold(x);
    const attack = new PointwiseAttack({ restarts: 2, maxQueries: 150 });
    const a = await attack.run(x, 0, predictDecider(smoothed), { index: 3, seed: 7 });
    const b = await attack.run(x, 0, predictDecider(smoothed), { index: 3, seed: 7 });
    expect(a.magnitude).not.toBeNull();
    expect(b).toEqual(a);
    expect(a.samples).toBe(200 * a.queries);
    const c = await attack.run(x, 0, predictDecider(smoothed), { index: 4, seed: 7 });
    expect(c.queries === a.queries && c.adversarial?.data.every((v, i) => v === a.adversarial!.data[i])).toBe(false);
    // distinct keys → distinct streams
    const keys = new Set<number>();
    for (let restart = 0; restart < 10; restart++) for (let query = 0; query < 100; query++) keys.add(queryStream({ index: 3, restart, query }));
    expect(keys.size).toBe(1000);
  });

  it('rejects inputs off the pixel grid and bad options with typed errors', async () => {
    const x = original();
    x.data[0] = 0.5; // 127.5/255
    await expect(new PointwiseAttack().run(x, 0, async () => ({ prediction: 0, samples: 1 }))).rejects.toThrow(InputError);
    expect(() => new PointwiseAttack({ restarts: 0 })).toThrow(/restarts/);
    expect(() => new PointwiseAttack({ levels: 1 })).toThrow(/levels/);
  });
});

describe('the attack slot of a config', () => {
  const synthetic = definePlugin<'classifier', object>({
    kind: 'classifier',
    type: 'synthetic',
    description: 'test',
    schema: {},
    create: () => thresholdClassifier(original(), 3),
  });
  const base = {
    perturbation: { type: 'ablation', retain: 64 },
    encoder: { type: 'identity' },
    classifier: { type: 'synthetic' },
    certifier: { type: 'cohen', alpha: 0.05, n0: 10, n: 100 },
  };

  it('is optional, creates the pointwise attack with its defaults, and attacks the smoothed classifier', async () => {
    expect((await createLoose(base, { plugins: [synthetic] })).attack).toBeUndefined();
    const rt = await createLoose({ ...base, attack: { type: 'pointwise', restarts: 2 } }, { plugins: [synthetic] });
    expect(rt.attack).toBeInstanceOf(PointwiseAttack);
    expect(rt.attack!.describe()).toBe('pointwise(restarts=2, levels=256)');
    // k = d: every ablated sample is the image itself, so the smoothed classifier is the base one and the boundary is exact
    const r = await rt.attack!.run(original(), 0, predictDecider(rt.smoothed), { seed: 0 });
    expect(r.magnitude).toBe(3);
    expect(r.samples).toBe(100 * r.queries);
  });

  it('validates its options and type with ConfigError at /attack/…', async () => {
    await expect(createLoose({ ...base, attack: { type: 'pointwise', restarts: 0 } }, { plugins: [synthetic] })).rejects.toThrow(ConfigError);
    await expect(createLoose({ ...base, attack: { type: 'pointwise', restarts: 0 } }, { plugins: [synthetic] })).rejects.toThrow(/attack\/restarts/);
    await expect(createLoose({ ...base, attack: { type: 'carlini' } }, { plugins: [synthetic] })).rejects.toThrow(/attack\/type/);
  });
});

describe('PointwiseAttack progress within an image', () => {
  it('reports every query after the clean one, in stage order, with the running counts and the best restart', async () => {
    const x = original();
    const m = 3;
    const decide = baseClassifierDecider(thresholdClassifier(x, m), new IdentityEncoder());
    const seen: AttackProgress[] = [];
    const r = await new PointwiseAttack({ restarts: 2 }).run(x, 0, decide, { index: 5, seed: 1, onProgress: (p) => seen.push({ ...p }) });
    // query 0 (the clean image) comes before any restart; every later query is reported once
    expect(seen).toHaveLength(r.queries - 1);
    expect(seen.map((p) => p.queries)).toEqual(Array.from({ length: r.queries - 1 }, (_, i) => i + 2));
    expect(seen.at(-1)!.samples).toBe(r.samples);
    const order = { init: 0, reset: 1, refine: 2 } as const;
    for (const restart of [0, 1]) {
      const mine = seen.filter((p) => p.restart === restart);
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.every((p) => p.restarts === 2)).toBe(true);
      // stages only move forward within a restart, and all three occur
      const stages = mine.map((p) => order[p.stage]);
      expect(stages).toEqual([...stages].sort((a, b) => a - b));
      expect(new Set(stages)).toEqual(new Set([0, 1, 2]));
      // no magnitude before an adversarial is found; after that it only shrinks, down to m
      expect(mine.filter((p) => p.stage === 'init').every((p) => p.magnitude === null)).toBe(true);
      const mags = mine.filter((p) => p.stage !== 'init').map((p) => p.magnitude!);
      expect(mags).toEqual([...mags].sort((a, b) => b - a));
      expect(mags.at(-1)).toBe(m);
      // the best over finished restarts: none during the first, the first's result during the second
      expect(mine.every((p) => p.best === (restart === 0 ? null : m))).toBe(true);
    }
  });
});

describe('PointwiseAttack with a confirming oracle (a cheap, noisy search oracle only guides the search)', () => {
  // A stub smoothed classifier with known class probabilities: each sample votes class 1 with probability
  // q = c/10, c = the pixels of S changed from the original, else class 0 (the label). So g(x) = 0 for c ≤ 4,
  // a tie at c = 5 and g(x) = 1 for c ≥ 6: an example is adversarial for g exactly when c ≥ 5.
  const changedInS = (img: Image, x0: Image) => S.filter((i) => img.data[i] !== x0.data[i]).length;
  const stubPredict = (x0: Image, n: number, stream: (key: QueryKey) => number, substream: number): Decide => async (img, key) => {
    const rng = new Rng(11, stream(key), substream);
    const q = changedInS(img, x0) / 10;
    const counts = [0, 0];
    for (let s = 0; s < n; s++) counts[rng.float() < q ? 1 : 0]!++;
    const p = predictFromCounts(counts, n, 0.05);
    return { prediction: p.prediction, samples: n, votes: { nA: p.nA, nB: p.nB, pValue: p.pValue } };
  };
  /** The search's oracle: PREDICT with 10 samples — it abstains far from g's boundary (e.g. 7–3 votes at c = 3). */
  const cheap = (x0: Image) => stubPredict(x0, 10, queryStream, SUBSTREAM.predict);
  /** The confirming oracle: PREDICT with 10 000 samples from the confirmation streams. */
  const confirming = (x0: Image) => stubPredict(x0, 10_000, (k) => confirmStream(k.index, k.query), SUBSTREAM.confirm);

  it('reports only a confirmed example: the search ends where the cheap oracle abstained, the walk-back where g errs or ties', async () => {
    const x = original();
    const r = await new PointwiseAttack({ restarts: 2 }).run(x, 0, cheap(x), { index: 2, seed: 5, confirm: confirming(x) });
    // without confirmation the same search reports its unconfirmed end (what the committed k = 45 row did)
    const unconfirmed = await new PointwiseAttack({ restarts: 2 }).run(x, 0, cheap(x), { index: 2, seed: 5 });
    expect(changedInS(unconfirmed.adversarial!, x)).toBeLessThan(5);
    expect(r.magnitude).not.toBeNull();
    const adv = r.adversarial!;
    expect(changedInS(adv, x)).toBeGreaterThanOrEqual(5); // adversarial for g itself, not for one noisy draw
    expect(changedLocations(adv.data, x.data, shape)).toBe(r.magnitude);
    const c = r.confirmation!;
    expect(c.searchMagnitude).toBe(Math.min(...r.perRestart.map((m) => m ?? Infinity)));
    expect(c.searchMagnitude!).toBeLessThan(r.magnitude!); // the search's end was not confirmed: it walked back
    expect(c.confirmed).not.toBeNull();
    expect(c.confirmed!.prediction).not.toBe(0);
    expect(r.prediction).toBe(c.confirmed!.prediction);
    // the recorded confirmation is reproducible from its stream, on the reported example
    const again = await confirming(x)(adv, { index: 2, restart: 0, query: c.confirmed!.attempt });
    expect({ prediction: again.prediction, n: 10_000, nA: again.votes!.nA, nB: again.votes!.nB, pValue: again.votes!.pValue }).toEqual({
      prediction: c.confirmed!.prediction,
      n: c.confirmed!.n,
      nA: c.confirmed!.nA,
      nB: c.confirmed!.nB,
      pValue: c.confirmed!.pValue,
    });
  });

  it('counts the confirmations’ samples, gives each confirmation its own number, and walks back by bisection', async () => {
    const x = original();
    const asked: number[] = [];
    let cheapSamples = 0;
    let cheapQueries = 0;
    const search: Decide = async (img, key) => {
      const d = await cheap(x)(img, key);
      cheapSamples += d.samples;
      cheapQueries++;
      return d;
    };
    const confirm: Decide = async (img, key) => {
      asked.push(key.query);
      return confirming(x)(img, key);
    };
    const r = await new PointwiseAttack({ restarts: 3 }).run(x, 0, search, { index: 9, seed: 2, confirm });
    expect(r.queries).toBe(cheapQueries);
    expect(r.samples).toBe(cheapSamples + 10_000 * asked.length);
    expect(r.confirmation!.samples).toBe(10_000 * asked.length);
    expect(r.confirmation!.confirmations).toBe(asked.length);
    expect(asked).toEqual(asked.map((_, i) => i)); // confirmation k is asked with query k: its own stream
    // at most: one per accepted start (≤ initSteps per restart) plus, per restart, its end and a bisection of its path
    expect(asked.length).toBeLessThan(3 * (100 + 1 + 12));
    expect(changedInS(r.adversarial!, x)).toBeGreaterThanOrEqual(5);
  });

  it('the confirming PREDICT, not the cheap oracle, decides whether the clean image is already adversarial', async () => {
    const x = original();
    const abstainsOnClean: Decide = async (img, key) => (key.restart === 0 && key.query === 0 ? { prediction: null, samples: 10 } : cheap(x)(img, key));
    const r = await new PointwiseAttack({ restarts: 1 }).run(x, 0, abstainsOnClean, { index: 1, seed: 3, confirm: confirming(x) });
    expect(r.magnitude).not.toBe(0);
    expect(r.restarts).toBe(1);
    expect(changedInS(r.adversarial!, x)).toBeGreaterThanOrEqual(5);
    // a misclassified original that the confirmation agrees with is magnitude 0, with its confirmation
    const wrong = await new PointwiseAttack({ restarts: 1 }).run(x, 1, abstainsOnClean, { index: 1, seed: 3, confirm: confirming(x) });
    expect(wrong).toMatchObject({ magnitude: 0, restarts: 0, queries: 0, samples: 10_000, prediction: 0, confirmation: { confirmations: 1, searchMagnitude: 0 } });
    // …also when the cheap oracle would have called it correct
    const alwaysLabel: Decide = async () => ({ prediction: 1, samples: 10 });
    expect(await new PointwiseAttack({ restarts: 1 }).run(x, 1, alwaysLabel, { index: 1, seed: 3, confirm: confirming(x) })).toMatchObject({ magnitude: 0, queries: 0, prediction: 0 });
  });

  it('reports none when nothing is ever confirmed', async () => {
    const x = original();
    const never: Decide = async () => ({ prediction: 0, samples: 7 });
    const r = await new PointwiseAttack({ restarts: 2, initSteps: 10 }).run(x, 0, cheap(x), { index: 4, seed: 1, confirm: never });
    expect(r.magnitude).toBeNull();
    expect(r.adversarial).toBeNull();
    expect(r.confirmation).toMatchObject({ confirmed: null, searchMagnitude: null });
    expect(r.confirmation!.confirmations).toBeGreaterThan(0);
  });

  it('confirmDecider draws from SUBSTREAM.confirm of confirmStream(index, k), not from any search query’s stream', async () => {
    const x = original();
    const smoothed = noisyThreshold(x);
    const img = { data: Float32Array.from(x.data), shape };
    for (const i of S.slice(0, 4)) img.data[i] = 1;
    const c = await confirmDecider(smoothed, { n: 300 })(img, { index: 3, restart: 1, query: 2 });
    const direct = await smoothed.predict(img, { index: confirmStream(3, 2), n: 300, confirm: true });
    expect(c).toEqual({ prediction: direct.prediction, samples: 300, votes: { nA: direct.nA, nB: direct.nB, pValue: direct.pValue } });
    const sameIndexPredict = await smoothed.predict(img, { index: confirmStream(3, 2), n: 300 });
    expect(sameIndexPredict.nA === direct.nA && sameIndexPredict.nB === direct.nB).toBe(false);
    expect(SUBSTREAM.confirm).not.toBe(SUBSTREAM.predict);
    expect(SUBSTREAM.confirm).not.toBe(SUBSTREAM.certify);
    // confirmation streams of one image are distinct
    expect(new Set(Array.from({ length: 1000 }, (_, k) => confirmStream(3, k))).size).toBe(1000);
  });
});
