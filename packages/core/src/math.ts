/**
 * @ablate/core/math — the certificate mathematics alone: the robustness bounds (Δ of paper eq. 5 and Lee et al.'s
 * bound), Clopper–Pearson intervals, the binomial test, the radius search and the sample planner. Side-effect-free
 * (no plug-in registry, no DI container) and free of Node built-ins, so that a browser bundle keeps only what it
 * uses.
 *
 * @example
 * import { ablationBound, maxCertifiedRadius } from '@ablate/core/math';
 * maxCertifiedRadius({ bound: ablationBound(784, 45), pLower: 0.9997 }); // 11
 *
 * @module
 */
export { AblateError, ArgumentError } from './errors.js';
export { MAX_SAMPLES, MIN_ALPHA, MIN_BOUND_LEVEL } from './limits.js';
export { nextUp, nextDown, UNIT_ROUNDOFF, exactSumAtMost } from './math/float.js';
export { ablationDelta, logMissProbability } from './math/ablation-delta.js';
export { clopperPearsonLower, clopperPearsonUpper, binomialTestPValue, phi, phiInverse } from './math/statistics.js';
export { largestRadius } from './math/radius-search.js';
export { informationAblation, informationLeeNoise } from './math/information.js';
export type { RobustnessBound, ThreatModel } from './perturbations/perturbation.js';
export { ablationBound } from './perturbations/ablation.js';
export { leeNoiseBound } from './perturbations/lee-noise.js';
export { gaussianBound } from './perturbations/gaussian.js';
export { enumeratedBound } from './perturbations/enumerated.js';
export { maxCertifiedRadius, type RadiusQuery, type BoundSource } from './engine/max-certified-radius.js';
export { planSamples, bestParameter, type SamplePlanQuery, type SamplePlan, type RetainChoice } from './engine/sample-planner.js';
export { checkSchedule, SCHEDULE_DEFAULTS, SEQUENTIAL_MAX_SAMPLES, type CheckSchedule, type CheckScheduleOptions } from './certifiers/check-schedule.js';
