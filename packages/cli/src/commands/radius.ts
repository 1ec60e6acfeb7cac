import { ablationBound, informationAblation, informationLeeNoise, leeNoiseBound, gaussianBound, maxCertifiedRadius, type RobustnessBound } from '@ablate/core';
import { UsageError } from '../errors.js';

export interface RadiusOptions {
  perturbation: string;
  d?: number;
  retain?: number;
  levels: number;
  keepProb?: number;
  sigma?: number;
  pLower: number;
  pUpper?: number;
  json?: boolean;
}

/** The certificate calculator: largest certified radius for given probability bounds, plus eq. 20–21's bits. */
export function radiusCommand(o: RadiusOptions): { text: string; json: Record<string, unknown> } {
  const need = (v: number | undefined, flag: string): number => {
    if (v === undefined) throw new UsageError(flag, `is required for --perturbation ${o.perturbation}`);
    return v;
  };
  let bound: RobustnessBound;
  let information: number | undefined;
  const params: Record<string, unknown> = {};
  switch (o.perturbation) {
    case 'ablation': {
      const d = need(o.d, '--d');
      const k = need(o.retain, '--retain');
      bound = ablationBound(d, k);
      information = informationAblation(k, o.levels);
      Object.assign(params, { d, retain: k, levels: o.levels });
      break;
    }
    case 'lee-noise': {
      const d = need(o.d, '--d');
      const kappa = need(o.keepProb, '--keep-prob');
      bound = leeNoiseBound(d, o.levels, kappa);
      information = informationLeeNoise(d, kappa, o.levels);
      Object.assign(params, { d, levels: o.levels, keepProb: kappa });
      break;
    }
    case 'gaussian': {
      const sigma = need(o.sigma, '--sigma');
      bound = gaussianBound(sigma);
      Object.assign(params, { sigma });
      break;
    }
    default:
      throw new UsageError('--perturbation', `must be ablation, lee-noise or gaussian, got "${o.perturbation}"`);
  }
  const radius = maxCertifiedRadius({ bound, pLower: o.pLower, pUpper: o.pUpper });
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
