import { binomialTestPValue } from '../math/statistics.js';
import { assertInteger, assertOpenInterval } from '../math/validate.js';
import type { VoteSampler } from './certifier.js';
import { checkSchedule, SEQUENTIAL_MAX_SAMPLES, type CheckScheduleOptions } from './check-schedule.js';
import { predictFromCounts, type Prediction } from './predict.js';

export interface SequentialPredictOptions extends CheckScheduleOptions {
  /** α: probability of returning a class other than g(x). */
  alpha: number;
  /** Cap: at most this many samples. */
  n: number;
  /** Called after each check (1-based `check` of `checks`) with that check's p-value (must not throw). */
  report?: (progress: { check: number; checks: number; pValue: number }) => void;
}

/**
 * Sequential PREDICT: Cohen et al.'s two-sided binomial test of the top two counts, repeated at the checks
 * n_1 < … < n_J = n of `checkSchedule(n, α)` on one growing sample, at level α_j at check j; returns the top
 * class at the first check that rejects, abstains if none does.
 *
 * Guarantee: the counts at check j are exactly those of a fixed-n PREDICT with n_j samples, which returns a class
 * other than g(x) with probability ≤ α_j (Cohen et al. 2019, Proposition 1). The sequential test can only err if
 * one of those J fixed-n tests errs, so by the union bound it errs with probability ≤ Σ α_j ≤ α.
 * `n` of the result is the number of samples it used.
 * @category Math
 */
export async function predictSequential(sample: VoteSampler, options: SequentialPredictOptions): Promise<Prediction> {
  assertOpenInterval('alpha', options.alpha, 0, 1);
  assertInteger('n', options.n, 1, SEQUENTIAL_MAX_SAMPLES);
  const { counts: checks, alphas } = checkSchedule(options.n, options.alpha, options);
  let counts: Uint32Array | undefined;
  let used = 0;
  let result: Prediction | undefined;
  for (let j = 0; j < checks.length; j++) {
    const fresh = await sample(checks[j]! - used, 'estimation');
    if (!counts) counts = Uint32Array.from(fresh);
    else for (let i = 0; i < fresh.length; i++) counts[i]! += fresh[i]!;
    used = checks[j]!;
    result = predictFromCounts(counts, used, alphas[j]!);
    options.report?.({ check: j + 1, checks: checks.length, pValue: result.pValue });
    if (result.prediction !== null) break;
    // Futility: even if every remaining sample went to the leader (the most extreme final counts), no later
    // check could reject. Deterministic, so it changes when we stop, not the error probability.
    const remaining = options.n - used;
    if (remaining > 0 && binomialTestPValue(result.nA + remaining, result.nA + result.nB + remaining) > Math.max(...alphas.slice(j + 1))) break;
  }
  return { ...result!, alpha: options.alpha };
}
