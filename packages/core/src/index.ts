/**
 * @ablate/core — randomized smoothing for certifiably robust classification.
 * Data path: Perturbation.sample → Encoder.encode → BaseClassifier.classify → votes → Certifier → Certificate.
 */
export * from './errors.js';
export * from './shape.js';
export { Rng, mixSeed } from './rng.js';
// math
export { nextUp, nextDown, UNIT_ROUNDOFF } from './math/float.js';
export { ablationDelta, logMissProbability } from './math/ablation-delta.js';
export { clopperPearsonLower, clopperPearsonUpper, binomialTestPValue, phi, phiInverse } from './math/statistics.js';
export { largestRadius } from './math/radius-search.js';
export { informationAblation, informationLeeNoise } from './math/information.js';
// perturbations
export type { Perturbation, RobustnessBound, ThreatModel } from './perturbations/perturbation.js';
export { PerturbedBatch } from './perturbations/perturbed-batch.js';
export { AblationPerturbation, ablationBound, type AblationOptions } from './perturbations/ablation.js';
export { LeeNoisePerturbation, leeNoiseBound, type LeeNoiseOptions } from './perturbations/lee-noise.js';
export { GaussianPerturbation, gaussianBound, type GaussianOptions } from './perturbations/gaussian.js';
// encoders
export { type Encoder, encodedShape } from './encoders/encoder.js';
export type { Normalization } from './encoders/normalization.js';
export { MultichannelEncoder } from './encoders/multichannel.js';
export { MeanEncoder } from './encoders/mean.js';
export { IdentityEncoder } from './encoders/identity.js';
// base classifier
export { type BaseClassifier, argmaxRows } from './classifier/base-classifier.js';
export { FunctionClassifier, type FunctionClassifierOptions } from './classifier/function-classifier.js';
// certifiers
export { type Certificate, type Certifier, type VoteSampler, topClass } from './certifiers/certifier.js';
export type { SamplingOptions } from './certifiers/sampling-options.js';
export { CohenCertifier } from './certifiers/cohen.js';
export { LecuyerCertifier } from './certifiers/lecuyer.js';
export { predictFromCounts, type Prediction } from './certifiers/predict.js';
// engine
export { SmoothedClassifier, type SmoothingOptions, type RunOptions } from './engine/smoothed-classifier.js';
export { maxCertifiedRadius, type RadiusQuery, type BoundSource } from './engine/max-certified-radius.js';
// data
export type { Dataset, Example } from './dataset/dataset.js';
// config
export { definePlugin, type Plugin, type PluginKind, type PluginContext, type SlotTypes, type JsonSchema } from './config/plugin.js';
export { PluginRegistry, SLOTS, REQUIRED_SLOTS } from './config/registry.js';
export { validateConfig } from './config/validate-config.js';
export { TOKENS } from './config/tokens.js';
export { builtinPlugins } from './config/builtins.js';
export { CORE_VERSION, coreVersionsCompatible } from './version.js';
export { REGISTRY_KEY, sharedRegistry, type RegistryHolder } from './config/global-registry.js';
export { KNOWN_PLUGIN_PACKAGES, packageProviding, installHint } from './config/known-packages.js';
export { createContainer, createSlot, registry, type AblateRuntime, type CreateContainerOptions } from './config/container.js';
export type {
  AblateConfig,
  ResolvedConfig,
  SlotConfig,
  SlotConfigOf,
  PerturbationOptionsMap,
  EncoderOptionsMap,
  CertifierOptionsMap,
  ClassifierOptionsMap,
  DatasetOptionsMap,
} from './config/typed-config.js';
