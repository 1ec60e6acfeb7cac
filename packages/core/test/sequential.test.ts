import { describe, expect, it } from 'vitest';
import {
  ablationBound,
  ablationDelta,
  AblationPerturbation,
  ArgumentError,
  checkSchedule,
  clopperPearsonLower,
  clopperPearsonUpper,
  focusedSchedule,
  createContainer,
  definePlugin,
  FunctionClassifier,
  leeNoiseBound,
  MultichannelEncoder,
  predictSequential,
  radiusFunction,
  Rng,
  SequentialCertifier,
  SmoothedClassifier,
  ConfigError,
  exactSumAtMost,
  MAX_CHECKS,
  type RobustnessBound,
  type VoteSampler,
} from '../src/index.js';
import { bernoulliSampler, threshold } from './helpers/adversarial-p.js';

describe('check schedule', () => {
  it('is geometric from firstCheck, ends at the budget, and spends exactly α', () => {
    const { counts, alphas } = checkSchedule(1000, 0.05);
    // ⌈32·1.5⌉ = 48, ⌈48·1.5⌉ = 72, 108, 162, ⌈243⌉, ⌈364.5⌉ = 365, ⌈547.5⌉ = 548, 822, then the budget
    expect(counts).toEqual([32, 48, 72, 108, 162, 243, 365, 548, 822, 1000]);
    expect(alphas[9]).toBe(0.025);
    for (const a of alphas.slice(0, 9)) expect(a).toBeCloseTo(0.025 / 9, 15);
    // exactly, not just up to rounding (here the rounded-to-nearest split happens to be within α already; the
    // grid test below covers the schedules where it is not)
    expect(exactSumAtMost(alphas, 0.05)).toBe(true);
    expect(exactSumAtMost([0.1, 0.2], 0.3)).toBe(false);
    expect(exactSumAtMost([0.5, 0.25], 0.75)).toBe(true);
    expect(checkSchedule(20, 0.01)).toEqual({ counts: [20], alphas: [0.01] });
    expect(checkSchedule(10, 0.1, { firstCheck: 4, ratio: 2, finalShare: 0.6 }).counts).toEqual([4, 8, 10]);
  });

  it('spends at most α in exact arithmetic over a grid of J, α and finalShare (the naive split often overspends)', () => {
    // J = budget with firstCheck 1 and ratio 1.0001 (each check one sample more: ⌈m·1.0001⌉ = m + 1 for m < 10⁴)
    const Js = Array.from({ length: 64 }, (_, i) => i + 1);
    const alphaGrid = [0.05, 0.001, 0.1, 0.01, 0.2, 0.037, 1e-6, 1e-10, 0.3, 0.013];
    const shares = [0.5, 0.1, 0.3, 0.7, 0.9, 0.25, 0.6, 0.05, 0.99, 0.123];
    let naiveOverspends = 0;
    for (const J of Js) {
      for (const alpha of alphaGrid) {
        for (const finalShare of shares) {
          const { counts, alphas } = checkSchedule(J, alpha, { firstCheck: 1, ratio: 1.0001, finalShare });
          expect(counts.length).toBe(J);
          expect(exactSumAtMost(alphas, alpha)).toBe(true);
          if (J === 1) {
            expect(alphas).toEqual([alpha]);
            continue;
          }
          // the final level is exactly finalShare·α (rounded once), the early ones equal and at most a few ulps
          // below the rounded (α − finalShare·α)/(J − 1)
          const naive = (alpha - finalShare * alpha) / (J - 1);
          expect(alphas.at(-1)).toBe(finalShare * alpha);
          expect(new Set(alphas.slice(0, -1)).size).toBe(1);
          expect(alphas[0]!).toBeLessThanOrEqual(naive);
          expect(alphas[0]!).toBeGreaterThanOrEqual(naive * (1 - 1e-14));
          if (!exactSumAtMost([...Array<number>(J - 1).fill(naive), finalShare * alpha], alpha)) naiveOverspends++;
        }
      }
    }
    // the grid has teeth: without the exact guard, these schedules would spend more than α
    expect(naiveOverspends).toBe(2663);
  });

  it('bounds the schedule: at most MAX_CHECKS checks, an error naming ratio beyond', () => {
    expect(checkSchedule(MAX_CHECKS, 0.05, { firstCheck: 1, ratio: 1.0000001 }).counts.length).toBe(MAX_CHECKS);
    expect(() => checkSchedule(MAX_CHECKS + 1, 0.05, { firstCheck: 1, ratio: 1.0000001 })).toThrow(ArgumentError);
    expect(() => checkSchedule(MAX_CHECKS + 1, 0.05, { firstCheck: 1, ratio: 1.0000001 })).toThrow(/ratio.*at most 10000 checks/);
    // issue 20: {maxSamples: 1e9, ratio: 1.0000001} built a ~1e9-entry schedule per image; now refused at construction
    const t = Date.now();
    expect(() => new SequentialCertifier({ alpha: 0.05, maxSamples: 1e9, ratio: 1.0000001 })).toThrow(/^ratio/);
    expect(Date.now() - t).toBeLessThan(1000);
    // the default ratio at the largest budget is far from the cap
    expect(checkSchedule(1e9, 0.05).counts.length).toBeLessThan(50);
  });

  it('derived levels below the Clopper–Pearson floor are refused at construction, naming the option', async () => {
    const make = (o: object) => () => new SequentialCertifier({ alpha: 0.05, maxSamples: 11000, ...o });
    expect(make({ finalShare: 1e-300 })).toThrow(ArgumentError);
    expect(make({ finalShare: 1e-300 })).toThrow(/^finalShare: the last check's level finalShare·α = 5e-302 is below 1e-150/);
    expect(make({ selectionAlpha: 1e-300 })).toThrow(/^selectionAlpha: must be ≥ 1e-150/);
    expect(make({ futilityAlpha: 1e-300 })).toThrow(/^futilityAlpha: must be ≥ 1e-150/);
    expect(make({ alpha: 1e-120 })).toThrow(/^alpha: must be ≥ 1e-100/);
    expect(make({ alpha: 1e-100, finalShare: 1e-60 })).toThrow(/^finalShare/);
    // the early levels (1 − finalShare)·α/(J − 1), reachable through checkSchedule's own α
    expect(() => checkSchedule(100000, 3e-150)).toThrow(/^finalShare: each of the \d+ early checks/);
    // the smallest accepted levels still build
    expect(make({ alpha: 1e-100, selectionAlpha: 1e-150, futilityAlpha: 1e-150 })).not.toThrow();
    // and through a config, before any input is seen (the CLI creates its files after the container)
    const fixed = definePlugin<'classifier', Record<string, never>>({
      kind: 'classifier',
      type: 'fixed',
      description: 'always class 0',
      schema: { properties: {} },
      create: () => new FunctionClassifier({ numClasses: 2, inputShape: [2, 8, 8], predict: () => 0 }),
    });
    const config = (certifier: object) =>
      createContainer(
        {
          perturbation: { type: 'ablation', retain: 2 },
          encoder: { type: 'multichannel' },
          classifier: { type: 'fixed' },
          certifier: { type: 'sequential', alpha: 0.05, maxSamples: 11000, ...certifier },
        } as never,
        { plugins: [fixed] },
      );
    // options added later have no schema default: a resolved config (and so a run's sidecar) written before them
    // still matches on --resume
    const resolved = (await config({})).config.certifier as Record<string, unknown>;
    expect(resolved.futilityAlpha).toBe(0.05);
    expect('focusShare' in resolved || 'pilotSamples' in resolved).toBe(false);
    await expect(config({ finalShare: 1e-300 })).rejects.toThrow(/finalShare/);
    await expect(config({ selectionAlpha: 1e-300 })).rejects.toThrow(/selectionAlpha/);
    await expect(config({ maxSamples: 1e9, ratio: 1.0000001 })).rejects.toThrow(/ratio/);
  });

  it('focused schedule: share·α at the focus check, the rest on the geometric fallback, exactly ≤ α', () => {
    const { counts, alphas } = focusedSchedule(1000, 0.05, {}, { at: 200, share: 0.8 });
    const fallback = checkSchedule(1000, (1 - 0.8) * 0.05);
    expect(counts).toEqual([32, 48, 72, 108, 162, 200, 243, 365, 548, 822, 1000]);
    expect(alphas[5]).toBeCloseTo(0.04, 15);
    expect(alphas[5]!).toBeLessThanOrEqual(0.8 * 0.05);
    expect([...alphas.slice(0, 5), ...alphas.slice(6)]).toEqual(fallback.alphas);
    expect(exactSumAtMost(alphas, 0.05)).toBe(true);
    // a focus on a fallback check adds to its level; one past the budget goes to the last check
    const merged = focusedSchedule(1000, 0.05, {}, { at: 162, share: 0.8 });
    expect(merged.counts).toEqual(fallback.counts);
    expect(merged.alphas[4]).toBeCloseTo(fallback.alphas[4]! + 0.04, 15);
    expect(focusedSchedule(1000, 0.05, {}, { at: 5000, share: 0.5 }).counts.at(-1)).toBe(1000);
    // exact over a grid of focus places, shares and α
    for (const alpha of [0.05, 0.001, 0.013, 0.3]) {
      for (const share of [0.1, 0.5, 0.8, 0.9, 0.99, 0.37]) {
        for (const at of [1, 31, 32, 100, 365, 999, 1000]) {
          const s = focusedSchedule(1000, alpha, { finalShare: 0.3 }, { at, share });
          expect(exactSumAtMost(s.alphas, alpha)).toBe(true);
          expect(s.counts.includes(at)).toBe(true);
          expect(Math.max(...s.alphas)).toBeGreaterThanOrEqual(share * alpha * (1 - 1e-14));
        }
      }
    }
    expect(() => new SequentialCertifier({ alpha: 0.05, maxSamples: 11000, focusShare: 1 })).toThrow(/^focusShare/);
    expect(() => new SequentialCertifier({ alpha: 1e-100, maxSamples: 11000, focusShare: 1e-60 })).toThrow(/^focusShare/);
    expect(() => new SequentialCertifier({ alpha: 0.05, maxSamples: 11000, pilotSamples: 0 })).toThrow(/^pilotSamples/);
  });

  it('rejects bad options with the field named', () => {
    expect(() => checkSchedule(100, 0.05, { ratio: 1 })).toThrow(/ratio/);
    expect(() => checkSchedule(100, 0.05, { finalShare: 1 })).toThrow(/finalShare/);
    expect(() => new SequentialCertifier({ alpha: 0.05, maxSamples: 1000, n0: 1000 })).toThrow(ArgumentError);
    expect(() => new SequentialCertifier({ alpha: 0.05, maxSamples: 2 ** 32 })).toThrow(/maxSamples/);
  });
});

describe('sequential certifier: exact behaviour', () => {
  const bound = ablationBound(784, 45);

  it('all votes for one class: stops at the first check whose α_j^(1/n) clears ½ + Δ(11)', async () => {
    const cert = new SequentialCertifier({ alpha: 0.05, maxSamples: 11000 });
    const c = await cert.certify(async (num) => Uint32Array.from([num, 0, 0]), bound);
    // selection: 16 votes for class 0, two-sided binomial p = 2·2^-16 ≤ 0.001, so one step
    const { counts, alphas } = checkSchedule(11000 - 16, 0.05);
    // with nA = n, Clopper–Pearson lower = α^(1/n) (closed form); radius 11 is the most k = 45 can give
    const need = 0.5 + ablationDelta(784, 45, 11);
    expect(0.5 + ablationDelta(784, 45, 12)).toBeGreaterThan(1);
    const j = counts.findIndex((m, i) => alphas[i]! ** (1 / m) > need);
    expect(counts[j]).toBe(365);
    expect(c).toMatchObject({ prediction: 0, radius: 11, guess: 0, n0: 16, n: 365, nA: 365, samples: 381 });
    expect(c.pLower).toBeCloseTo(alphas[j]! ** (1 / 365), 10);
    expect(c.method).toMatch(/stopped at check 7\/\d+: radius decided/);
  });

  it('at the budget it keeps the best bound it has seen (max over checks), never less', async () => {
    // A deterministic vote stream sitting on the radius-8 threshold (so the radius is never decided) that turns
    // worse late: the best lower bound comes from an earlier check, and the certificate must use it.
    const cert = new SequentialCertifier({ alpha: 0.05, maxSamples: 2016, n0: 16, futilityAlpha: 1e-9, ratio: 3 });
    let seen = 0;
    let votesA = 0;
    const high = threshold(bound, 8) + 0.002;
    // checks at 32, 96, 288, 864, 2000 (ratio 3): the drop comes after the check at 864
    const rate = (i: number) => (i < 864 ? high : 0);
    const history: Array<[number, number]> = [];
    const sampler: VoteSampler = async (num, phase) => {
      if (phase === 'selection') return Uint32Array.from([num, 0]);
      let a = 0;
      for (let i = 0; i < num; i++, seen++) {
        if (Math.floor((seen + 1) * rate(seen)) > Math.floor(seen * rate(seen)) || rate(seen) === 1) a++;
      }
      votesA += a;
      history.push([votesA, seen]);
      return Uint32Array.from([a, num - a]);
    };
    const c = await cert.certify(sampler, bound);
    const { alphas, counts } = checkSchedule(2000, 0.05, { ratio: 3 });
    expect(counts).toEqual([32, 96, 288, 864, 2000]);
    const best = Math.max(...history.map(([nA, n], j) => clopperPearsonLower(nA, n, alphas[j]!)));
    expect(c.n).toBe(2000);
    expect(c.pLower).toBe(best);
    expect(c.pLower).toBeGreaterThan(clopperPearsonLower(votesA, 2000, alphas.at(-1)!));
    expect(c.radius).toBe(radiusFunction(bound)(best));
  });

  it('a clear abstention stops early', async () => {
    const cert = new SequentialCertifier({ alpha: 0.05, maxSamples: 11000 });
    // three classes with probabilities 0.3, 0.3, 0.4: the top class has p_A = 0.4 < ½
    const rng = new Rng(3);
    const c = await cert.certify(async (num) => {
      const v = new Uint32Array(3);
      for (let i = 0; i < num; i++) v[rng.float() < 0.4 ? 2 : rng.float() < 0.5 ? 0 : 1]!++;
      return v;
    }, bound);
    expect(c.prediction).toBeNull();
    // selection sees that no class can reach ½ and abstains without an estimation phase
    expect(c.n).toBe(0);
    expect(c.samples).toBeLessThan(500);
  });

  it('config: registered with defaults; maxSamples above the 32-bit vote limit is a ConfigError', async () => {
    const classifier = { type: 'function', numClasses: 2 } as const;
    await expect(
      createContainer({
        perturbation: { type: 'ablation', retain: 2 },
        encoder: { type: 'multichannel' },
        classifier: { ...classifier, model: 'x' },
        certifier: { type: 'sequential', alpha: 0.05, maxSamples: 2 ** 32 },
      } as never),
    ).rejects.toThrow(ConfigError);
    await expect(
      createContainer({
        perturbation: { type: 'ablation', retain: 2 },
        encoder: { type: 'multichannel' },
        classifier: { ...classifier, model: 'x' },
        certifier: { type: 'sequential', alpha: 0.05, maxSamples: 2 ** 32 },
      } as never),
    ).rejects.toThrow(/maxSamples/);
  });
});

/**
 * Soundness by simulation. The synthetic classifier votes class 0 with probability p, set 1e−6 below the
 * threshold of radius R* + 1 (the worst place: the truth is R*, and R* + 1 is claimed whenever the lower bound
 * overshoots p by a hair). An over-claim is a certificate with a radius > R* (or another class). Its rate must stay
 * ≤ α + 3 binomial standard errors. Power: the same simulation run on a "peeking" certifier that tests every check
 * at the full α (no union bound) over-claims several times more often than α and fails the bound, so a certifier
 * that lost its α-split would be caught.
 */
describe('sequential soundness by simulation', () => {
  const runs = 2000;
  const maxSamples = 2000;

  async function overclaims(certify: (sample: VoteSampler) => Promise<{ prediction: number | null; radius: number | null }>, p: number, R: number, seed: number) {
    let over = 0;
    let exact = 0;
    for (let i = 0; i < runs; i++) {
      const c = await certify(bernoulliSampler(p, new Rng(seed, i)));
      if (c.prediction === null) continue;
      if (c.prediction !== 0 || c.radius! > R) over++;
      if (c.radius === R) exact++;
    }
    return { over: over / runs, exact: exact / runs };
  }

  /** Repeated Clopper–Pearson at the full α at every check (the classic optional-stopping mistake). */
  function peeking(alpha: number, bound: RobustnessBound) {
    const r = radiusFunction(bound);
    return async (sample: VoteSampler) => {
      let nA = 0;
      let n = 0;
      let best = -1;
      for (const m of checkSchedule(maxSamples, alpha).counts) {
        nA += (await sample(m - n, 'estimation'))[0]!;
        n = m;
        best = Math.max(best, r(clopperPearsonLower(nA, n, alpha)));
      }
      return { prediction: best < 0 ? null : 0, radius: best < 0 ? null : best };
    };
  }

  const cases: Array<[string, RobustnessBound, number]> = [
    ['ablation d = 64, k = 10', ablationBound(64, 10), 2],
    ['lee-noise d = 64, K = 2, κ = 0.8', leeNoiseBound(64, 2, 0.8), 1],
  ];
  for (const alpha of [0.05, 0.001]) {
    const tolerance = 3 * Math.sqrt((alpha * (1 - alpha)) / runs);
    for (const [name, bound, R] of cases) {
      it(`${name}, α = ${alpha}: over-claims ≤ α`, async () => {
        const p = threshold(bound, R + 1) - 1e-6;
        expect(radiusFunction(bound)(p)).toBe(R);
        const cert = new SequentialCertifier({ alpha, maxSamples, n0: 100 });
        const { over, exact } = await overclaims((s) => cert.certify(s, bound), p, R, 11);
        if (process.env.ABLATE_DEBUG) console.log(name, alpha, { over, exact });
        expect(over).toBeLessThanOrEqual(alpha + tolerance);
        // it does certify: the truth R* is usually reached
        expect(exact).toBeGreaterThan(alpha === 0.05 ? 0.5 : 0.2);
      });
    }
    it(`power at α = ${alpha}: the same simulation fails a peeking certifier`, async () => {
      const [, bound, R] = cases[0]!;
      const p = threshold(bound, R + 1) - 1e-6;
      const { over } = await overclaims(peeking(alpha, bound), p, R, 12);
      if (process.env.ABLATE_DEBUG) console.log('peeking', alpha, over);
      expect(over).toBeGreaterThan(alpha + tolerance);
    });
  }

  /** The selection-informed schedule with its α split broken: the full α at every check (focus and fallback). */
  class BrokenFocus extends SequentialCertifier {
    override scheduleFor(budget: number, top: number, used: number, bound: RobustnessBound) {
      const s = super.scheduleFor(budget, top, used, bound);
      return { counts: s.counts, alphas: s.counts.map(() => this.alpha) };
    }
  }
  // Several radii, each one step (1e−6) below the threshold of the next; both α; the focus placed from the
  // selection's pilot (64 samples) at 0.8·α.
  for (const alpha of [0.05, 0.001]) {
    const tolerance = 3 * Math.sqrt((alpha * (1 - alpha)) / runs);
    for (const [name, bound, radii] of [
      ['ablation d = 64, k = 10', ablationBound(64, 10), [0, 1, 3]],
      ['lee-noise d = 64, K = 2, κ = 0.8', leeNoiseBound(64, 2, 0.8), [0, 1]],
    ] as Array<[string, RobustnessBound, number[]]>) {
      it(`focused schedule, ${name}, α = ${alpha}, radii ${radii.join(', ')}: over-claims ≤ α`, async () => {
        const cert = new SequentialCertifier({ alpha, maxSamples, n0: 100, focusShare: 0.8, pilotSamples: 64 });
        for (const R of radii) {
          const p = threshold(bound, R + 1) - 1e-6;
          expect(radiusFunction(bound)(p)).toBe(R);
          const { over, exact } = await overclaims((s) => cert.certify(s, bound), p, R, 13 + R);
          if (process.env.ABLATE_DEBUG) console.log('focused', name, alpha, R, { over, exact });
          expect(over).toBeLessThanOrEqual(alpha + tolerance);
          expect(exact).toBeGreaterThan(alpha === 0.05 ? 0.4 : 0.15);
        }
      });
    }
    it(`power at α = ${alpha}: the focused simulation fails the focused certifier with full α at every check`, async () => {
      const [, bound, R] = cases[0]!;
      const p = threshold(bound, R + 1) - 1e-6;
      const broken = new BrokenFocus({ alpha, maxSamples, n0: 100, focusShare: 0.8, pilotSamples: 64 });
      const { over } = await overclaims((s) => broken.certify(s, bound), p, R, 14);
      if (process.env.ABLATE_DEBUG) console.log('broken focus', alpha, over);
      expect(over).toBeGreaterThan(alpha + tolerance);
    });
  }

  it('focused schedule: the focus sits where the pilot predicts the radius is decided, and certify stops there', async () => {
    const bound = ablationBound(784, 45);
    const cert = new SequentialCertifier({ alpha: 0.05, maxSamples: 11000, focusShare: 0.8, pilotSamples: 64 });
    const radiusOf = radiusFunction(bound);
    const s = cert.scheduleFor(11000 - 64, 64, 64, bound);
    const j = s.alphas.findIndex((a) => a >= 0.8 * 0.05 * (1 - 1e-14));
    const at = s.counts[j]!;
    // p̃ = CP-lower(64, 64, ½) = ½^(1/64); at `at` a fixed-n test at 0.8·α with ⌊p̃·at⌋ votes decides the radius
    const pt = 0.5 ** (1 / 64);
    const decides = (m: number) => radiusOf(clopperPearsonLower(Math.floor(pt * m), m, 0.04)) >= radiusOf(clopperPearsonUpper(Math.floor(pt * m), m, 0.04));
    expect(decides(at)).toBe(true);
    expect(at).toBeLessThan(1000);
    // a fallback check before it does not decide a rate of p̃ (its level is ≤ 0.2·α); votes at that rate
    // (deterministic, ⌊p̃·m⌋ after m samples) stop exactly at the focus check
    let seen = 0;
    const c = await cert.certify(async (num, phase) => {
      if (phase === 'selection') return Uint32Array.from([num, 0]);
      const a = Math.floor(pt * (seen + num)) - Math.floor(pt * seen);
      seen += num;
      return Uint32Array.from([a, num - a]);
    }, bound);
    expect(c).toMatchObject({ n0: 64, n: at, radius: radiusOf(clopperPearsonLower(Math.floor(pt * at), at, s.alphas[j]!)) });
    expect(c.method).toMatch(/radius decided/);
  });

  it('end to end through SmoothedClassifier (ablation, α = 0.05)', async () => {
    const alpha = 0.05;
    const d = 64;
    const R = 2;
    const bound = ablationBound(d, 10);
    const p = threshold(bound, R + 1) - 1e-6;
    const rng = new Rng(99, 1);
    const classifier = new FunctionClassifier({ numClasses: 2, predict: () => (rng.float() < p ? 0 : 1) });
    const smoothed = new SmoothedClassifier(new AblationPerturbation({ retain: 10 }), new MultichannelEncoder(), classifier, new SequentialCertifier({ alpha, maxSamples }), { batchSize: 512, seed: 5 });
    const x = { data: new Float32Array(d).fill(0.5), shape: [1, 8, 8] as const };
    let over = 0;
    let samples = 0;
    const n = 500;
    for (let i = 0; i < n; i++) {
      const c = await smoothed.certify(x, { index: i });
      samples += c.samples;
      expect(c.samples).toBe(c.n0 + c.n);
      if (c.prediction !== null && c.radius! > R) over++;
    }
    expect(over / n).toBeLessThanOrEqual(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / n));
    expect(samples / n).toBeLessThanOrEqual(maxSamples);
  });
});

describe('sequential PREDICT', () => {
  it('unanimous votes: stops at the first check whose two-sided p-value 2·2^−n ≤ α_j', async () => {
    const { counts, alphas } = checkSchedule(1000, 0.05);
    const j = counts.findIndex((m, i) => 2 * 0.5 ** m <= alphas[i]!);
    const p = await predictSequential(async (num) => Uint32Array.from([0, num, 0]), { alpha: 0.05, n: 1000 });
    expect(p).toMatchObject({ prediction: 1, n: counts[j], nA: counts[j], nB: 0, alpha: 0.05 });
    expect(counts[j]).toBe(32);
  });

  it('a tie abstains, and stops as soon as no later check could reject', async () => {
    const p = await predictSequential(async (num) => Uint32Array.from([num / 2, num / 2]), { alpha: 0.05, n: 100, firstCheck: 20, ratio: 2 });
    expect(p.prediction).toBeNull();
    // at n = 20 (10–10), even 80 more votes for the leader would give p = 2·P(Bin(100, ½) ≥ 90) ≪ α_j: continue;
    // at n = 40 (20–20), 60 more → 80 vs 20: still rejectable; at n = 80 (40–40) 20 more → 60 vs 40 of 100: no.
    expect(p.n).toBe(80);
  });

  it('wrong-class rate ≤ α (1 000 runs, p₀ = 0.5 + 1e−9 vs p₁; any class-1 answer is wrong)', async () => {
    const alpha = 0.05;
    let wrong = 0;
    const runs = 1000;
    for (let i = 0; i < runs; i++) {
      const r = await predictSequential(bernoulliSampler(0.5 + 1e-9, new Rng(21, i)), { alpha, n: 400 });
      if (r.prediction === 1) wrong++;
    }
    expect(wrong / runs).toBeLessThanOrEqual(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / runs));
  });

  it('SmoothedClassifier.predict(x, { sequential: true }) uses few samples on a clear input', async () => {
    const classifier = new FunctionClassifier({ numClasses: 3, predict: () => 2 });
    const smoothed = new SmoothedClassifier(new AblationPerturbation({ retain: 10 }), new MultichannelEncoder(), classifier, new SequentialCertifier({ alpha: 0.001, maxSamples: 10000 }), { batchSize: 256 });
    const x = { data: new Float32Array(64).fill(0.5), shape: [1, 8, 8] as const };
    const seq = await smoothed.predict(x, { sequential: true });
    const fixed = await smoothed.predict(x);
    expect(seq.prediction).toBe(2);
    expect(fixed.prediction).toBe(2);
    expect(seq.n).toBeLessThan(100);
    expect(fixed.n).toBe(smoothed.certifier.n);
  });
});
