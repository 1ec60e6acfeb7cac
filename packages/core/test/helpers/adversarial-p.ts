import type { RobustnessBound, VoteSampler } from '../../src/index.js';

// The setup of the soundness-by-simulation tests (packages/core/test/sequential.test.ts,
// test/confidence-sequences.test.ts): a base classifier whose top class has probability p, and the p just below
// which a radius is no longer certifiable.

/**
 * A synthetic base classifier's votes: class 0 with probability p, class 1 otherwise (two classes). `rng` is an
 * `Rng` of either the sources or the build (the root tests import @ablate/core's dist).
 */
export function bernoulliSampler(p: number, rng: { float(): number }): VoteSampler {
  return async (num) => {
    let a = 0;
    for (let i = 0; i < num; i++) if (rng.float() < p) a++;
    return Uint32Array.from([a, num - a]);
  };
}

/** The smallest p at which Corollary 1 certifies radius ρ: inf{p : lower(p, ρ) > ½}, by bisection. */
export function threshold(bound: RobustnessBound, rho: number): number {
  let lo = 0.5;
  let hi = 1;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (bound.lower(mid, rho) > 0.5) hi = mid;
    else lo = mid;
  }
  return hi;
}
