import { MAX_SAMPLES } from '../limits.js';
import { ArgumentError } from '../errors.js';
import { exactSumAtMost, nextDown } from '../math/float.js';
import { assertInteger, assertOpenInterval } from '../math/validate.js';

/**
 * Largest sample count a sequential procedure accepts: votes are counted in Uint32Array, so no class can
 * receive more than 2³² − 1 votes. (A project-wide constant may replace this local one.)
 */
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

/** Default check schedule: first check at 32 samples, ×1.5 each, half of α on the last check. @category Math */
export const SCHEDULE_DEFAULTS = { firstCheck: 32, ratio: 1.5, finalShare: 0.5 } as const;

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
  for (let m = Math.min(firstCheck, budget); m < budget; m = Math.max(m + 1, Math.ceil(m * ratio))) counts.push(m);
  counts.push(budget);
  const J = counts.length;
  const final = J === 1 ? alpha : finalShare * alpha;
  let early = J === 1 ? 0 : (alpha - final) / (J - 1);
  // Rounding must not spend more than α: lower the early levels (by ulps) until the exact sum is ≤ α.
  const total = () => [...Array<number>(J - 1).fill(early), final];
  while (!exactSumAtMost(total(), alpha)) early = nextDown(early);
  const alphas = total();
  return { counts, alphas };
}
