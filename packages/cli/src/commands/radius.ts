import { informationAblation, informationLeeNoise, maxCertifiedRadius } from '@ablate/core';
import { boundFromFlags, checkProbability, withFlags, type BoundFlags } from './bound-flags.js';
import { UsageError } from '../errors.js';

export interface RadiusOptions extends BoundFlags {
  pLower: number;
  pUpper?: number;
  json?: boolean;
  /** The validated options of a perturbation built by `registryBound`, for the JSON output. */
  options?: Record<string, unknown>;
}

/** The certificate calculator: largest certified radius for given probability bounds, plus eq. 20–21's bits. */
export function radiusCommand(o: RadiusOptions): { text: string; json: Record<string, unknown> } {
  checkProbability('--p-lower', o.pLower);
  if (o.pUpper !== undefined) {
    checkProbability('--p-upper', o.pUpper);
    if (o.pUpper > 1 - o.pLower + 1e-12) throw new UsageError('--p-upper', `--p-lower + --p-upper = ${o.pLower + o.pUpper} exceeds 1`, 'p_A and p_B are probabilities of disjoint events');
  }
  const bound = boundFromFlags(o);
  let information: number | undefined;
  const params: Record<string, unknown> = {};
  switch (o.resolved ? undefined : o.perturbation) {
    case 'ablation':
      information = withFlags(() => informationAblation(o.retain!, o.levels));
      Object.assign(params, { d: o.d, retain: o.retain, levels: o.levels });
      break;
    case 'lee-noise':
      information = withFlags(() => informationLeeNoise(o.d!, o.keepProb!, o.levels));
      Object.assign(params, { d: o.d, levels: o.levels, keepProb: o.keepProb });
      break;
    case 'gaussian':
      Object.assign(params, { sigma: o.sigma });
      break;
    default:
      if (o.options) Object.assign(params, { options: o.options });
      break;
  }
  const radius = withFlags(() => maxCertifiedRadius({ bound, pLower: o.pLower, pUpper: o.pUpper }));
  const json: Record<string, unknown> = {
    radius,
    unit: bound.unit,
    perturbation: o.perturbation,
    ...params,
    pLower: o.pLower,
    ...(o.pUpper !== undefined ? { pUpper: o.pUpper } : {}),
    certifier: o.pUpper === undefined ? 'cohen (Corollary 1)' : 'lecuyer (Corollary 2)',
    ...(information !== undefined ? { informationBits: information } : {}),
  };
  const text = [
    radius === null ? `not certifiable: pLower ${o.pLower} gives no radius (even ρ = 0 fails)` : `certified radius: ${radius} ${bound.unit}`,
    ...(information !== undefined ? [`information per smoothed sample: ${information.toFixed(2)} bits (eq. ${o.perturbation === 'ablation' ? 20 : 21}, |S| = ${o.levels})`] : []),
  ].join('\n');
  return { text, json };
}
