import { ablationBound, AblateError, ArgumentError, gaussianBound, leeNoiseBound, MIN_ALPHA, type RobustnessBound } from '@ablate/core';
import { UsageError } from '../errors.js';

/** The flags of `ablate radius` and `ablate plan` that choose a robustness bound. */
export interface BoundFlags {
  perturbation: string;
  d?: number;
  retain?: number;
  levels: number;
  keepProb?: number;
  sigma?: number;
  /** The bound of a registered perturbation, built by `registryBound` (used as it is, without a curve parameter). */
  resolved?: RobustnessBound;
}

/** The flag each core argument name of the bound and planner functions comes from. */
export const FLAG_OF_ARGUMENT: Readonly<Record<string, string>> = {
  d: '--d',
  retain: '--retain',
  levels: '--levels',
  keepProb: '--keep-prob',
  sigma: '--sigma',
  pLower: '--p-lower',
  pUpper: '--p-upper',
  pA: '--p-a',
  alpha: '--alpha',
  radius: '--radius',
  maxSamples: '--max-samples',
  n0: '--n0',
  n: '--n',
};

/** The perturbation parameter `plan --curve` varies: k for ablation, κ for lee-noise, σ for gaussian. */
export function curveParameterName(perturbation: string): string {
  return perturbation === 'ablation' ? 'k' : perturbation === 'lee-noise' ? 'κ' : 'σ';
}

/** The flag's value, or a usage error saying the perturbation needs it. */
export function needFlag(value: number | undefined, flag: string, perturbation: string): number {
  if (value === undefined) throw new UsageError(flag, `is required for --perturbation ${perturbation}`);
  return value;
}

/** Checks a probability flag (--p-lower, --p-upper, --p-a) is in [0, 1]. */
export function checkProbability(flag: string, p: number): void {
  if (!(p >= 0 && p <= 1)) throw new UsageError(flag, `must be in [0, 1], got ${p}`);
}

/** Checks `--alpha` is in the range the certifiers accept: [MIN_ALPHA, 1). */
export function checkAlpha(alpha: number): void {
  if (!(alpha >= MIN_ALPHA && alpha < 1)) {
    throw new UsageError('--alpha', `must be in [${MIN_ALPHA}, 1), got ${alpha}`, `smaller α are not supported: the Clopper–Pearson bound is verified conservative only above ${MIN_ALPHA}`);
  }
}

/**
 * The robustness bound the flags name. `param` replaces the perturbation's own parameter (k, κ or σ) and names
 * where it came from (`plan --curve`); errors name the flags the user typed, never core's argument names.
 */
export function boundFromFlags(o: BoundFlags, param?: { value: number; source: string }): RobustnessBound {
  if (o.resolved) {
    if (param) throw new UsageError(param.source, `is available for ablation, lee-noise and gaussian given by flags, not for ${o.perturbation ?? 'a --config perturbation'}`, 'ask for --radius/--p-a instead');
    return o.resolved;
  }
  const name = curveParameterName(o.perturbation);
  /** The parameter's flag and the error naming it (e.g. `--retain: must …`, or `--curve: k = 900 must …`). */
  const parameter = (flag: string, own: number | undefined) => {
    const value = param ? param.value : needFlag(own, flag, o.perturbation);
    const fail = (rule: string) => (param ? new UsageError(param.source, `${name} = ${value} ${rule}`) : new UsageError(flag, `${rule}, got ${value}`));
    return { value, fail };
  };
  switch (o.perturbation) {
    case 'ablation': {
      const d = needFlag(o.d, '--d', o.perturbation);
      const k = parameter('--retain', o.retain);
      if (!(Number.isInteger(k.value) && k.value >= 1 && k.value <= d)) throw k.fail(`must be an integer from 1 to --d (${d})`);
      return withFlags(() => ablationBound(d, k.value));
    }
    case 'lee-noise': {
      const d = needFlag(o.d, '--d', o.perturbation);
      const kappa = parameter('--keep-prob', o.keepProb);
      if (!(kappa.value > 0 && kappa.value < 1)) throw kappa.fail('must be in (0, 1)');
      return withFlags(() => leeNoiseBound(d, o.levels, kappa.value));
    }
    case 'gaussian': {
      const sigma = parameter('--sigma', o.sigma);
      if (!(sigma.value > 0 && Number.isFinite(sigma.value))) throw sigma.fail('must be a finite number > 0');
      return withFlags(() => gaussianBound(sigma.value));
    }
    default:
      throw new UsageError('--perturbation', `"${o.perturbation}" needs --shape (or --config) to build its bound`, 'e.g. --shape 1,28,28');
  }
}

/**
 * Runs a core call, turning its ArgumentError (named by a core argument, e.g. `keepProb`) into a usage error
 * naming the flag (`--keep-prob`), hint kept. Other errors pass through.
 */
export function withFlags<T>(call: () => T, flags: Readonly<Record<string, string>> = FLAG_OF_ARGUMENT): T {
  try {
    return call();
  } catch (error) {
    throw asFlagError(error, flags);
  }
}

/** As `withFlags`, for a promise. */
export async function withFlagsAsync<T>(call: () => Promise<T>, flags: Readonly<Record<string, string>> = FLAG_OF_ARGUMENT): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw asFlagError(error, flags);
  }
}

function asFlagError(error: unknown, flags: Readonly<Record<string, string>>): unknown {
  if (!(error instanceof ArgumentError) || error.field === undefined || !Object.hasOwn(flags, error.field)) return error;
  const e = error as AblateError;
  const field = error.field;
  let message = e.message.startsWith(`${field}: `) ? e.message.slice(field.length + 2) : e.message;
  if (e.hint && message.endsWith(` (${e.hint})`)) message = message.slice(0, -(e.hint.length + 3));
  // other argument names inside the message (e.g. "must be < maxSamples") read as flags too
  for (const [argument, flag] of Object.entries(flags)) message = message.replace(new RegExp(`\\b${argument}\\b(?= \\(|,|\\)| must| =| \\+)`, 'g'), flag);
  return new UsageError(flags[field]!, message, e.hint);
}
