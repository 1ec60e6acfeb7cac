import { MAX_SAMPLES, MIN_BOUND_LEVEL } from '../limits.js';
import { ArgumentError } from '../errors.js';
import { exactSumAtMost, nextDown } from '../math/float.js';
import { assertInteger, assertOpenInterval } from '../math/validate.js';

/** The largest sample budget: the framework-wide MAX_SAMPLES (votes are 32-bit counts; see limits.ts). @category Math */
export const SEQUENTIAL_MAX_SAMPLES = MAX_SAMPLES;

/** How a sequential procedure spreads its checks and its error budget α over them. @category Math */
export interface CheckScheduleOptions {
  /** Sample count of the first check (default 32). */
  firstCheck?: number;
  /** Each check looks at ⌈ratio ×⌉ the samples of the previous one (default 1.5). */
  ratio?: number;
  /** Share of α spent on the last check, at the full budget; the rest is split evenly over the earlier checks
   *  (default 0.5). Closer to 1: the last check is nearly as strong as a fixed-n test, early stops cost more. */
  finalShare?: number;
}

/** A resolved schedule: the sample counts n_1 < … < n_J of the checks and their levels α_j (Σ α_j ≤ α exactly). @category Math */
export interface CheckSchedule {
  /** Sample counts n_1 < n_2 < … < n_J = the budget. */
  readonly counts: readonly number[];
  /** α_j spent at each check; Σ α_j ≤ α (union bound). */
  readonly alphas: readonly number[];
}

/**
 * Most checks a schedule may have. Each check costs a Clopper–Pearson bound and a radius search, and the schedule
 * is held in memory, so a ratio barely above 1 over a large budget (10⁹ checks) is refused up front, naming
 * `ratio`; at the default ratio 1.5 even the largest budget (10⁹) needs fewer than 50 checks. (`focusedSchedule` adds
 * its one focus check to a fallback schedule of at most this many.)
 * @category Math
 */
export const MAX_CHECKS = 10_000;

/** Default check schedule: first check at 32 samples, ×1.5 each, half of α on the last check. @category Math */
export const SCHEDULE_DEFAULTS = { firstCheck: 32, ratio: 1.5, finalShare: 0.5 } as const;

/** Checks firstCheck, ratio and finalShare on their own (types and ranges); `checkSchedule` checks what they derive. */
export function validateScheduleOptions(o: CheckScheduleOptions): void {
  if (o.firstCheck !== undefined) assertInteger('firstCheck', o.firstCheck, 1, SEQUENTIAL_MAX_SAMPLES);
  if (o.ratio !== undefined && !(typeof o.ratio === 'number' && Number.isFinite(o.ratio) && o.ratio > 1)) {
    throw new ArgumentError('ratio', `must be a number > 1, got ${String(o.ratio)}`, 'e.g. 1.5: each check sees 50 % more samples');
  }
  if (o.finalShare !== undefined && !(typeof o.finalShare === 'number' && o.finalShare > 0 && o.finalShare < 1)) {
    throw new ArgumentError('finalShare', `must be a number in (0, 1), got ${String(o.finalShare)}`, 'e.g. 0.5; use the cohen certifier for a single fixed-n test');
  }
}

/**
 * The geometric check schedule n_j = ⌈n_{j−1}·ratio⌉ from `firstCheck`, ending exactly at `budget`, with the
 * α-spending α_J = finalShare·α at the last check and (1 − finalShare)·α/(J − 1) at each earlier one (all of α
 * on the one check when J = 1). Because Σ_j α_j = α, a union bound makes the J per-check tests hold
 * simultaneously with probability ≥ 1 − α, which is what makes stopping at any check valid.
 * @category Math
 */
export function checkSchedule(budget: number, alpha: number, options: CheckScheduleOptions = {}): CheckSchedule {
  assertInteger('budget', budget, 1, SEQUENTIAL_MAX_SAMPLES);
  assertOpenInterval('alpha', alpha, 0, 1);
  validateScheduleOptions(options);
  const firstCheck = options.firstCheck ?? SCHEDULE_DEFAULTS.firstCheck;
  const ratio = options.ratio ?? SCHEDULE_DEFAULTS.ratio;
  const finalShare = options.finalShare ?? SCHEDULE_DEFAULTS.finalShare;
  const counts: number[] = [];
  for (let m = Math.min(firstCheck, budget); m < budget; m = Math.max(m + 1, Math.ceil(m * ratio))) {
    if (counts.length + 1 >= MAX_CHECKS) {
      throw new ArgumentError(
        'ratio',
        `(${ratio}) with firstCheck ${firstCheck} makes more than ${MAX_CHECKS} checks over a budget of ${budget} samples`,
        `raise ratio (e.g. 1.5) or firstCheck: a schedule has at most ${MAX_CHECKS} checks`,
      );
    }
    counts.push(m);
  }
  counts.push(budget);
  const J = counts.length;
  const final = J === 1 ? alpha : finalShare * alpha;
  let early = J === 1 ? 0 : (alpha - final) / (J - 1);
  // Rounding must not spend more than α: lower the early levels (by ulps) until the exact sum is ≤ α.
  const total = () => [...Array<number>(J - 1).fill(early), final];
  while (!exactSumAtMost(total(), alpha)) early = nextDown(early);
  // Every level feeds a Clopper–Pearson bound, which is only verified down to MIN_BOUND_LEVEL: refuse a schedule
  // whose derived levels fall below it, naming the option that made them so.
  if (final < MIN_BOUND_LEVEL) {
    throw new ArgumentError(
      J === 1 ? 'alpha' : 'finalShare',
      `the last check's level ${J === 1 ? 'α' : 'finalShare·α'} = ${final} is below ${MIN_BOUND_LEVEL}, the smallest level of a Clopper–Pearson bound`,
      J === 1 ? 'use a larger alpha' : 'raise finalShare (e.g. 0.5) or alpha',
    );
  }
  if (J > 1 && early < MIN_BOUND_LEVEL) {
    throw new ArgumentError(
      'finalShare',
      `each of the ${J - 1} early checks gets (1 − finalShare)·α/${J - 1} = ${early}, below ${MIN_BOUND_LEVEL}, the smallest level of a Clopper–Pearson bound`,
      'lower finalShare (e.g. 0.5), raise alpha, or use fewer checks (larger ratio or firstCheck)',
    );
  }
  const alphas = total();
  return { counts, alphas };
}

/**
 * A check schedule with a *focus* check: `share`·α is spent at the single check `at` (clamped to [1, budget]) and
 * the rest, (1 − share)·α, over the geometric schedule of `checkSchedule(budget, (1 − share)·α, options)` (the
 * fallback). A focus that falls on a fallback check adds its level to that check's. The focus level is lowered
 * by ulps until the exact sum of all levels is ≤ α, so the union bound holds as for `checkSchedule`.
 *
 * Validity needs `at` (and `share`) to be fixed before the estimation samples are drawn: the sequential certifier
 * chooses them from its selection samples, which are independent of the estimation samples (docs/certificates.md,
 * "selection-informed schedule").
 */
export function focusedSchedule(budget: number, alpha: number, options: CheckScheduleOptions, focus: { at: number; share: number }): CheckSchedule {
  assertOpenInterval('alpha', alpha, 0, 1);
  assertOpenInterval('focusShare', focus.share, 0, 1);
  assertInteger('budget', budget, 1, SEQUENTIAL_MAX_SAMPLES);
  const fallback = checkSchedule(budget, (1 - focus.share) * alpha, options);
  const at = Math.min(budget, Math.max(1, Math.round(focus.at)));
  let level = focus.share * alpha;
  if (level < MIN_BOUND_LEVEL) {
    throw new ArgumentError('focusShare', `the focus check's level focusShare·α = ${level} is below ${MIN_BOUND_LEVEL}, the smallest level of a Clopper–Pearson bound`, 'raise focusShare or alpha');
  }
  const i = fallback.counts.indexOf(at);
  const build = () => {
    if (i >= 0) return { counts: [...fallback.counts], alphas: fallback.alphas.map((a, j) => (j === i ? a + level : a)) };
    const k = fallback.counts.findIndex((c) => c > at);
    return { counts: [...fallback.counts.slice(0, k), at, ...fallback.counts.slice(k)], alphas: [...fallback.alphas.slice(0, k), level, ...fallback.alphas.slice(k)] };
  };
  let s = build();
  while (!exactSumAtMost(s.alphas, alpha)) {
    level = nextDown(level);
    s = build();
  }
  return s;
}
