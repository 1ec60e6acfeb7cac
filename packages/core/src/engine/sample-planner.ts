import { ArgumentError } from '../errors.js';
import { checkSchedule, type CheckScheduleOptions } from '../certifiers/check-schedule.js';
import { radiusFunction, SequentialCertifier, type SequentialOptions } from '../certifiers/sequential.js';
import { clopperPearsonLower } from '../math/statistics.js';
import { assertClosedInterval, assertInteger, assertOpenInterval } from '../math/validate.js';
import type { RobustnessBound } from '../perturbations/perturbation.js';
import { Rng } from '../rng.js';

/** A planning question: the bound (perturbation and its parameters), α, the target radius ρ and the expected p_A. @category Math */
export interface SamplePlanQuery {
  bound: RobustnessBound;
  /** Target radius ρ. */
  radius: number;
  /** The top-class probability p_A expected at the input. */
  pA: number;
  alpha: number;
  /** Budget of the sequential certifier (its last check), selection included. Default 11 000. */
  maxSamples?: number;
  /** Sequential certifier options besides alpha and maxSamples (check schedule, n0, …). */
  sequential?: Omit<SequentialOptions, 'alpha' | 'maxSamples'>;
  /** Monte Carlo runs for the expected stopping time (default 200; 0 skips it). */
  simulations?: number;
  seed?: number;
}

/** The answer: samples a fixed-n CERTIFY needs, the first sufficient sequential check, and a simulated stopping time. @category Math */
export interface SamplePlan {
  /** The true smallest n with radius(CP-lower(⌊p_A·n⌋, n, α)) ≥ ρ: Cohen's estimation samples when the empirical
   *  rate is p_A (add n0 for selection); null when ρ is out of reach even at p_A itself (or needs over 2⁴⁰ samples).
   *  Not every larger n certifies too: ⌊p_A·n⌋ makes the bound saw-toothed in n (see `smallestCertifyingN`). */
  fixedN: number | null;
  /** The first check of the sequential certifier's schedule that certifies ρ when the empirical rate is p_A (its
   *  estimation samples, selection not included); null when no check within the budget does. */
  sequentialN: number | null;
  /** Radius at p_A itself (infinitely many samples): the most any sample count can certify. */
  radiusAtPA: number | null;
  /** Monte Carlo over the actual sequential certifier (targetRadius ρ) with a synthetic classifier of probability p_A. */
  simulated?: { runs: number; meanSamples: number; medianSamples: number; certifiedAtLeast: number };
}

/**
 * Planner: how many samples does radius ρ at level α need, given p_A? Answers from the bound and the
 * Clopper–Pearson bound alone (fixed n, and the sequential schedule's first sufficient check), and by simulating
 * the sequential certifier's stopping time. Cohen et al.'s users' question: everything abstains at small n.
 * @category Math
 */
export async function planSamples(q: SamplePlanQuery): Promise<SamplePlan> {
  assertClosedInterval('pA', q.pA, 0, 1);
  assertOpenInterval('alpha', q.alpha, 0, 1);
  if (!(q.radius >= 0 && q.radius <= q.bound.maxRadius)) throw new ArgumentError('radius', `must be in [0, ${q.bound.maxRadius}], got ${q.radius}`);
  const maxSamples = q.maxSamples ?? 11000;
  assertInteger('maxSamples', maxSamples, 2);
  const r = radiusFunction(q.bound);
  const certifies = (nA: number, n: number, alpha: number) => r(clopperPearsonLower(nA, n, alpha)) >= q.radius;
  const radiusAtPA = r(q.pA);
  let fixedN: number | null = null;
  if (radiusAtPA >= q.radius) fixedN = smallestCertifyingN((k, n) => certifies(k, n, q.alpha), q.pA);
  const n0 = q.sequential?.n0 ?? 1000;
  const schedule: CheckScheduleOptions = { firstCheck: q.sequential?.firstCheck, ratio: q.sequential?.ratio, finalShare: q.sequential?.finalShare };
  // The schedule as the certifier builds it after a selection phase (16 samples when p_A is clear).
  const { counts, alphas } = checkSchedule(maxSamples - Math.min(n0, q.sequential?.selectionStep ?? 16), q.alpha, schedule);
  const j = counts.findIndex((m, i) => certifies(Math.floor(q.pA * m), m, alphas[i]!));
  const plan: SamplePlan = { fixedN, sequentialN: j < 0 ? null : counts[j]!, radiusAtPA: radiusAtPA < 0 ? null : radiusAtPA };
  const runs = q.simulations ?? 200;
  if (runs > 0) plan.simulated = await simulateSequential(q, maxSamples, runs);
  return plan;
}

/**
 * The smallest n ≥ 1 with `certifies(⌊pA·n⌋, n)`, for a `certifies(k, n)` that is non-decreasing in k and
 * non-increasing in n (as CP-lower(k, n, α) is). n ↦ certifies(⌊pA·n⌋, n) is not monotone (the floor drops a vote
 * now and then: for ρ = 9 at k = 45, p_A = 0.95, n = 180 certifies but 221 does not), so a bisection can miss the
 * smallest n. Instead: find some certifying n by doubling, then branch and bound on [1, that n], leftmost first:
 * a block [a, b] with ⌊pA·b⌋ + 1 ≤ a holds no certifying n when even the most favourable pair (⌊pA·b⌋ + 1 votes,
 * a samples: more votes than any n of the block has, and the fewest samples) does not certify, and is skipped;
 * otherwise it is halved.
 * The extra vote keeps the pruning safe against rounding in `certifies`. Cost: O(√n log n) evaluations (only the
 * saw-toothed stretch below the answer is visited one n at a time). Null when no n ≤ 2⁴⁰ certifies.
 */
export function smallestCertifyingN(certifies: (k: number, n: number) => boolean, pA: number): number | null {
  const votes = (n: number) => Math.min(n, Math.floor(pA * n));
  const ok = (n: number) => certifies(votes(n), n);
  let hi = 1;
  while (!ok(hi) && hi < 2 ** 40) hi *= 2;
  if (!ok(hi)) return null;
  const leftmost = (a: number, b: number): number | null => {
    if (a === b) return ok(a) ? a : null;
    const k = votes(b) + 1;
    if (k <= a && !certifies(k, a)) return null;
    const mid = a + Math.floor((b - a) / 2);
    return leftmost(a, mid) ?? leftmost(mid + 1, b);
  };
  return leftmost(1, hi);
}

async function simulateSequential(q: SamplePlanQuery, maxSamples: number, runs: number): Promise<NonNullable<SamplePlan['simulated']>> {
  const certifier = new SequentialCertifier({ ...q.sequential, alpha: q.alpha, maxSamples, targetRadius: q.radius });
  const samples: number[] = [];
  let atLeast = 0;
  for (let i = 0; i < runs; i++) {
    const rng = new Rng(q.seed ?? 0, i);
    // Two classes: ĉA with probability p_A, the rest as one runner-up (the worst case for selection is not modelled).
    const c = await certifier.certify(async (num) => {
      let a = 0;
      for (let s = 0; s < num; s++) if (rng.float() < q.pA) a++;
      return Uint32Array.from([a, num - a]);
    }, q.bound);
    samples.push(c.samples);
    if (c.prediction === 0 && c.radius !== null && c.radius >= q.radius) atLeast++;
  }
  samples.sort((a, b) => a - b);
  const m = runs >> 1;
  return {
    runs,
    meanSamples: samples.reduce((a, b) => a + b, 0) / runs,
    medianSamples: runs % 2 ? samples[m]! : (samples[m - 1]! + samples[m]!) / 2,
    certifiedAtLeast: atLeast / runs,
  };
}

/** One candidate parameter (e.g. ablation k) with its expected p_A and the certified radius it gives. @category Math */
export interface RetainChoice {
  /** The perturbation parameter (k for ablation, κ for Lee noise). */
  param: number;
  pA: number;
  /** Radius at p_A itself (no sampling error). */
  radiusAtPA: number | null;
  /** Radius Cohen's certificate gives with n samples at empirical rate p_A. */
  radiusAtN: number | null;
}

/**
 * Which parameter (e.g. ablation k) maximises the certified radius for a p_A curve (p_A measured or expected at
 * each k, e.g. from a validation run): each point's radius at p_A and at n samples (CP-lower at level α of
 * ⌊p_A·n⌋ votes); `best` maximises the latter (ties: the higher radius at p_A, then the first).
 * @category Math
 */
export function bestParameter(curve: ReadonlyArray<{ param: number; pA: number }>, boundOf: (param: number) => RobustnessBound, n: number, alpha: number): { best: RetainChoice; table: RetainChoice[] } {
  if (curve.length === 0) throw new ArgumentError('curve', 'is empty', 'give at least one (parameter, pA) pair');
  assertInteger('n', n, 1);
  assertOpenInterval('alpha', alpha, 0, 1);
  const table = curve.map(({ param, pA }) => {
    assertClosedInterval('pA', pA, 0, 1);
    const r = radiusFunction(boundOf(param));
    const atPA = r(pA);
    const atN = r(clopperPearsonLower(Math.floor(pA * n), n, alpha));
    return { param, pA, radiusAtPA: atPA < 0 ? null : atPA, radiusAtN: atN < 0 ? null : atN };
  });
  const key = (c: RetainChoice) => [c.radiusAtN ?? -1, c.radiusAtPA ?? -1];
  let best = table[0]!;
  for (const c of table.slice(1)) {
    const [a, b] = key(c);
    const [x, y] = key(best);
    if (a! > x! || (a === x && b! > y!)) best = c;
  }
  return { best, table };
}
