import { ArgumentError } from '../errors.js';
import { largestRadius } from '../math/radius-search.js';
import { binomialTestPValue, clopperPearsonLower, clopperPearsonUpper } from '../math/statistics.js';
import { assertInteger, assertOpenInterval } from '../math/validate.js';
import { MIN_ALPHA, MIN_BOUND_LEVEL } from '../limits.js';
import type { RobustnessBound } from '../perturbations/perturbation.js';
import type { Certificate, Certifier, CertifyContext, VoteSampler } from './certifier.js';
import { topClass } from './certifier.js';
import { checkSchedule, focusedSchedule, SEQUENTIAL_MAX_SAMPLES, validateScheduleOptions, type CheckSchedule, type CheckScheduleOptions } from './check-schedule.js';

/** Options of the `sequential` certifier (config names). @category Plug-in authors */
export interface SequentialOptions extends CheckScheduleOptions {
  /** α: failure probability of the certificate, in (0, 1). */
  alpha: number;
  /** Budget: at most this many base-classifier evaluations per input, selection included. */
  maxSamples: number;
  /** Most samples spent selecting ĉA (default 1000, Cohen's n0); selection stops earlier once the top two
   *  classes are clearly separated. Must be < maxSamples. */
  n0?: number;
  /** Selection draws this many samples at a time (default 16). */
  selectionStep?: number;
  /** Selection stops once the exact two-sided binomial test of the top two selection counts has p ≤ this
   *  (default 0.001). A heuristic for picking ĉA: it spends none of α (see docs/certificates.md). */
  selectionAlpha?: number;
  /** Stop once the radius is known to within this many units: r(U) − r(L) ≤ slack (default 0: decided). */
  slack?: number;
  /** Futility: stop once the last check could not certify a larger radius even if the remaining samples voted
   *  for ĉA at the rate of the (1 − futilityAlpha) upper confidence bound (default 0.05). Smaller: fewer early
   *  stops, fewer lost pixels. A heuristic for *when* to stop: it spends none of α. */
  futilityAlpha?: number;
  /** Only this radius matters (Voráček 2024's "decide a target radius"): stop as soon as r(L) ≥ targetRadius, or
   *  once r(U) < targetRadius. Default: none, the largest radius is sought. */
  targetRadius?: number;
  /** Selection-informed schedule: the share of α spent at one *focus* check, placed where the selection samples
   *  predict the radius is decided; the rest goes to the geometric schedule as a fallback (0: no focus check). */
  focusShare?: number;
  /** Selection draws at least this many samples (at most n0) so that its estimate of p_A can place the focus check. */
  pilotSamples?: number;
}

/** Defaults of the sequential certifier's selection phase and stopping rules (see docs/certificates.md). @category Plug-in authors */
export const SEQUENTIAL_DEFAULTS = { n0: 1000, selectionStep: 16, selectionAlpha: 0.001, slack: 0, futilityAlpha: 0.05, focusShare: 0, pilotSamples: 16 } as const;

/** Why the sequential certifier stopped. @category Plug-in authors */
export type StopReason = 'decided' | 'futile' | 'budget' | 'target';

const STOP_TEXT: Record<StopReason, string> = {
  decided: 'radius decided: r(L) = r(U)',
  futile: 'the last check could not plausibly certify more',
  budget: 'sample budget reached',
  target: 'target radius decided',
};

/**
 * Sequential CERTIFY with an anytime-valid confidence sequence (union bound over a geometric check schedule,
 * one-sided Clopper–Pearson at each check; cf. Voráček 2024, Horváth et al. 2022).
 *
 * 1. Selection: draw `selectionStep` samples at a time until the top two counts differ significantly or n0 is
 *    reached; ĉA = the top class. These samples are not reused.
 * 2. Estimation, on fresh samples: at each check n_j of `checkSchedule(maxSamples − n0_used, α)`,
 *    L_j = CP-lower(nA, n_j, α_j); the certificate uses L = max_{i ≤ j} L_i and radius r(L) = max ρ with
 *    lower(L, ρ) > ½ (Corollary 1), abstaining when L ≤ ½.
 * 3. Stop at the first check where r(L) ≥ r(U) − slack with U = CP-upper(nA, n_j, α_j) (the radius is
 *    decided), or where even an optimistic continuation could not raise r(L) by the last check, or at the budget.
 *
 * Guarantee (docs/certificates.md, "sequential"): since Σ α_j ≤ α, with probability ≥ 1 − α every L_j ≤ p_A
 * holds at once, so the certificate is correct whatever check the procedure stops at. The stopping rule and
 * U only decide *when* to stop; they spend no α.
 * @category Plug-in authors
 */
export class SequentialCertifier implements Certifier {
  readonly type = 'sequential';
  readonly alpha: number;
  /** Most selection samples. */
  readonly n0: number;
  /** Most estimation samples (maxSamples − n0; more remain when selection stops early). */
  readonly n: number;
  readonly maxSamples: number;
  readonly selectionStep: number;
  readonly selectionAlpha: number;
  readonly slack: number;
  readonly futilityAlpha: number;
  readonly targetRadius: number | undefined;
  readonly schedule: CheckScheduleOptions;
  readonly focusShare: number;
  readonly pilotSamples: number;
  private readonly focusCache = new WeakMap<RobustnessBound, Map<string, CheckSchedule>>();

  constructor(options: SequentialOptions) {
    assertOpenInterval('alpha', options.alpha, 0, 1);
    if (options.alpha < MIN_ALPHA) {
      throw new ArgumentError('alpha', `must be ≥ ${MIN_ALPHA}, got ${options.alpha}`, 'smaller α are not supported: the Clopper–Pearson bound is verified conservative only above it (docs/certificates.md)');
    }
    assertInteger('maxSamples', options.maxSamples, 2, SEQUENTIAL_MAX_SAMPLES);
    const o = { ...SEQUENTIAL_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<SequentialOptions>;
    assertInteger('n0', o.n0, 1);
    if (o.n0 >= o.maxSamples) throw new ArgumentError('n0', `(${o.n0}) must be < maxSamples (${o.maxSamples})`, 'raise maxSamples or lower n0');
    assertInteger('selectionStep', o.selectionStep, 1);
    assertLevel('selectionAlpha', o.selectionAlpha);
    if (!(typeof o.slack === 'number' && Number.isFinite(o.slack) && o.slack >= 0)) throw new ArgumentError('slack', `must be a number ≥ 0, got ${String(o.slack)}`);
    assertLevel('futilityAlpha', o.futilityAlpha);
    validateScheduleOptions(options);
    if (!(typeof o.focusShare === 'number' && o.focusShare >= 0 && o.focusShare < 1)) throw new ArgumentError('focusShare', `must be a number in [0, 1), got ${String(o.focusShare)}`, 'e.g. 0.8; 0 turns the focus check off');
    assertInteger('pilotSamples', o.pilotSamples, 1, SEQUENTIAL_MAX_SAMPLES);
    // Derived levels, up front (before any file or sample): the schedule with the most checks is the one after the
    // shortest selection (one step), and its levels are the smallest any input will see; checkSchedule refuses
    // levels below MIN_BOUND_LEVEL and schedules over MAX_CHECKS, naming the option.
    const longest = o.maxSamples - Math.min(o.selectionStep, o.n0);
    if (o.focusShare > 0) focusedSchedule(longest, o.alpha, options, { at: 1, share: o.focusShare });
    else checkSchedule(longest, o.alpha, options);
    this.alpha = o.alpha;
    this.maxSamples = o.maxSamples;
    this.n0 = o.n0;
    this.n = o.maxSamples - o.n0;
    this.selectionStep = o.selectionStep;
    this.selectionAlpha = o.selectionAlpha;
    this.slack = o.slack;
    this.futilityAlpha = o.futilityAlpha;
    if (options.targetRadius !== undefined && !(typeof options.targetRadius === 'number' && options.targetRadius >= 0)) {
      throw new ArgumentError('targetRadius', `must be a number ≥ 0, got ${String(options.targetRadius)}`);
    }
    this.targetRadius = options.targetRadius;
    this.schedule = { firstCheck: options.firstCheck, ratio: options.ratio, finalShare: options.finalShare };
    this.focusShare = o.focusShare;
    this.pilotSamples = o.pilotSamples;
  }

  /** Selection, then estimation check by check (each reported through `context.report`) until a stopping rule holds. */
  async certify(sample: VoteSampler, bound: RobustnessBound, context: CertifyContext = {}): Promise<Certificate> {
    const { guess, n0, hopeless, top } = await this.select(sample);
    if (hopeless) {
      // No class can plausibly have p > ½: abstain (always allowed) without spending estimation samples.
      const method = `sequential (abstained after selection: top-class upper bound ≤ ½ at level ${this.selectionAlpha})`;
      return { unit: bound.unit, pLower: 0, guess, nA: 0, n: 0, n0, samples: n0, alpha: this.alpha, method, prediction: null, radius: null };
    }
    const radiusOf = radiusFunction(bound);
    // The schedule depends on the selection samples only (independent of the estimation samples drawn below).
    const { counts: checks, alphas } = this.scheduleFor(this.maxSamples - n0, top, n0, bound);
    const J = checks.length;
    const last = checks[J - 1]!;
    let nA = 0;
    let n = 0;
    let L = 0;
    let rL = -1;
    let stop: StopReason = 'budget';
    let j = 0;
    for (; j < J; j++) {
      const m = checks[j]!;
      nA += (await sample(m - n, 'estimation'))[guess]!;
      n = m;
      L = Math.max(L, clopperPearsonLower(nA, n, alphas[j]!));
      rL = radiusOf(L);
      const U = clopperPearsonUpper(nA, n, alphas[j]!);
      const rU = radiusOf(U);
      context.report?.({ check: j + 1, checks: J, pLower: L, pUpper: U, radiusLower: rL < 0 ? null : rL, radiusUpper: rU < 0 ? null : rU });
      if (j === J - 1) break;
      if (this.targetRadius !== undefined && (rL >= this.targetRadius || rU < this.targetRadius)) {
        stop = 'target';
        break;
      }
      if (rL >= rU - this.slack) {
        stop = 'decided';
        break;
      }
      // Futility: even if the remaining samples voted for ĉA at an optimistic rate, the last check would not
      // certify a larger radius than we hold now.
      const rate = clopperPearsonUpper(nA, n, this.futilityAlpha);
      const projected = Math.min(last, nA + Math.floor(rate * (last - n)));
      if (radiusOf(clopperPearsonLower(projected, last, alphas[J - 1]!)) <= rL) {
        stop = 'futile';
        break;
      }
    }
    const base = {
      unit: bound.unit,
      pLower: L,
      guess,
      nA,
      n,
      n0,
      samples: n0 + n,
      alpha: this.alpha,
      method: `sequential (Corollary 1; Clopper–Pearson confidence sequence, union bound over ${J} checks, α_j = ${fmt(alphas[0]!)}…${fmt(alphas[J - 1]!)}; stopped at check ${j + 1}/${J}: ${STOP_TEXT[stop]})`,
    };
    if (rL < 0) return { ...base, prediction: null, radius: null };
    return { ...base, prediction: guess, radius: rL };
  }

  /**
   * The estimation schedule for a budget, given the selection's count `top` of ĉA among its `used` samples: the
   * geometric schedule, or with `focusShare` > 0 the focused one whose focus check sits where a fixed-n test at
   * level focusShare·α would decide the radius if the vote rate were p̃ = CP-lower(top, used, ½) (about the median
   * estimate of p_A from the selection samples).
   */
  scheduleFor(budget: number, top: number, used: number, bound: RobustnessBound): CheckSchedule {
    if (this.focusShare === 0) return checkSchedule(budget, this.alpha, this.schedule);
    // The search below costs two radius searches per grid point: remember its answers per bound (bounded cache).
    let cache = this.focusCache.get(bound);
    if (!cache || cache.size > 4096) this.focusCache.set(bound, (cache = new Map()));
    const key = `${budget},${top},${used}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const radiusOf = radiusFunction(bound);
    const level = this.focusShare * this.alpha;
    const p = clopperPearsonLower(top, used, 0.5);
    let at = budget;
    if (radiusOf(p) >= 0) {
      for (let m = Math.min(this.schedule.firstCheck ?? 32, budget); ; m = Math.min(budget, Math.max(m + 1, Math.ceil(m * 1.05)))) {
        const x = Math.floor(p * m);
        if (x > 0 && radiusOf(clopperPearsonLower(x, m, level)) >= radiusOf(clopperPearsonUpper(x, m, level))) {
          at = m;
          break;
        }
        if (m === budget) break;
      }
    }
    const schedule = focusedSchedule(budget, this.alpha, this.schedule, { at, share: this.focusShare });
    cache.set(key, schedule);
    return schedule;
  }

  /**
   * Selection of ĉA on its own samples: steps of `selectionStep` until the top two separate, at most n0; or
   * `hopeless` once even the top class's upper confidence bound (level selectionAlpha) is ≤ ½.
   */
  private async select(sample: VoteSampler): Promise<{ guess: number; n0: number; hopeless: boolean; top: number }> {
    let counts: Uint32Array | undefined;
    let used = 0;
    while (used < this.n0) {
      const step = Math.min(this.selectionStep, this.n0 - used);
      const fresh = await sample(step, 'selection');
      if (!counts) counts = Uint32Array.from(fresh);
      else for (let i = 0; i < fresh.length; i++) counts[i]! += fresh[i]!;
      used += step;
      const [a, b] = topTwo(counts);
      if (used >= this.pilotSamples && binomialTestPValue(a, a + b) <= this.selectionAlpha) break;
      if (clopperPearsonUpper(a, used, this.selectionAlpha) <= 0.5) return { guess: topClass(counts), n0: used, hopeless: true, top: a };
    }
    return { guess: topClass(counts!), n0: used, hopeless: false, top: topTwo(counts!)[0] };
  }
}

/** A level that feeds a Clopper–Pearson bound: in [MIN_BOUND_LEVEL, 1). */
function assertLevel(field: string, x: unknown): void {
  assertOpenInterval(field, x, 0, 1);
  if (x < MIN_BOUND_LEVEL) throw new ArgumentError(field, `must be ≥ ${MIN_BOUND_LEVEL}, got ${x}`, 'it sets the level of a Clopper–Pearson bound, verified conservative only down to that level (docs/certificates.md)');
}

/** Votes of the top two classes. */
export function topTwo(counts: ArrayLike<number>): [number, number] {
  let a = 0;
  let b = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c > a) {
      b = a;
      a = c;
    } else if (c > b) b = c;
  }
  return [a, b];
}

/** r(p): the largest ρ with lower(p, ρ) > ½ (Corollary 1), −1 when p ≤ ½ or even ρ = 0 fails. @category Math */
export function radiusFunction(bound: RobustnessBound): (p: number) => number {
  return (p) => (p > 0.5 ? largestRadius((rho) => bound.lower(p, rho) > 0.5, bound.maxRadius, bound.domain) : -1);
}

const fmt = (x: number) => (x >= 0.001 ? String(+x.toPrecision(3)) : x.toExponential(2));
