/**
 * @ablate/core — randomized smoothing for certifiably robust classification.
 * Data path: Perturbation.sample → Encoder.encode → BaseClassifier.classify → votes → Certifier → Certificate.
 */
export * from './errors.js';
export { quote, MAX_QUOTE_CHARS } from './quote.js';
export * from './shape.js';
export { Rng, mixSeed, SUBSTREAM } from './rng.js';
export { MAX_SAMPLES, MAX_BATCH_SIZE, MAX_BATCH_BYTES, MAX_IMAGES_IN_FLIGHT, MIN_ALPHA, MIN_BOUND_LEVEL, MAX_CONFIG_DEPTH, MAX_ATTACK_RESTARTS } from './limits.js';
// math
export { nextUp, nextDown, UNIT_ROUNDOFF, exactSumAtMost } from './math/float.js';
export { ablationDelta, logMissProbability } from './math/ablation-delta.js';
export { clopperPearsonLower, clopperPearsonUpper, binomialTestPValue, phi, phiInverse } from './math/statistics.js';
export { largestRadius } from './math/radius-search.js';
export { informationAblation, informationLeeNoise } from './math/information.js';
// perturbations
export type { Perturbation, RobustnessBound, ThreatModel, KnownThreatModel, Enumeration } from './perturbations/perturbation.js';
export { PerturbedBatch } from './perturbations/perturbed-batch.js';
export { AblationPerturbation, ablationBound, type AblationOptions } from './perturbations/ablation.js';
export { LeeNoisePerturbation, leeNoiseBound, type LeeNoiseOptions } from './perturbations/lee-noise.js';
export { GaussianPerturbation, gaussianBound, type GaussianOptions } from './perturbations/gaussian.js';
export { PartitionPerturbation, type PartitionOptions } from './perturbations/partition.js';
export { BandPerturbation, type BandOptions, type BandOrientation } from './perturbations/band.js';
export { AblationList, enumeratedBound } from './perturbations/enumerated.js';
// encoders
export { type Encoder, encodedShape } from './encoders/encoder.js';
export type { Normalization } from './encoders/normalization.js';
export { MultichannelEncoder } from './encoders/multichannel.js';
export { MeanEncoder } from './encoders/mean.js';
export { IdentityEncoder } from './encoders/identity.js';
// base classifier
export { type BaseClassifier, argmaxRows } from './classifier/base-classifier.js';
export { resolveModelIo, checkModelInputShape, checkLogitsOutput, type ModelIo, type ModelValueMetadata } from './classifier/model-io.js';
export { OnnxSessionClassifier, type OnnxSessionLike, type OnnxRuntimeLike, type OnnxOutputTensor } from './classifier/onnx-session-classifier.js';
export { FunctionClassifier, type FunctionClassifierOptions } from './classifier/function-classifier.js';
// certifiers
export { type Certificate, type Certifier, type CertifyContext, type CheckProgress, type VoteSampler, type EnumeratedVotes, topClass } from './certifiers/certifier.js';
export type { SamplingOptions } from './certifiers/sampling-options.js';
export { CohenCertifier } from './certifiers/cohen.js';
export { LecuyerCertifier } from './certifiers/lecuyer.js';
export { VoteGapCertifier, voteGapHolds, topTwo } from './certifiers/vote-gap.js';
export { SequentialCertifier, SEQUENTIAL_DEFAULTS, radiusFunction, type SequentialOptions, type StopReason } from './certifiers/sequential.js';
export { checkSchedule, focusedSchedule, MAX_CHECKS, SCHEDULE_DEFAULTS, SEQUENTIAL_MAX_SAMPLES, type CheckSchedule, type CheckScheduleOptions } from './certifiers/check-schedule.js';
export { predictFromCounts, type Prediction } from './certifiers/predict.js';
export { predictSequential, type SequentialPredictOptions } from './certifiers/sequential-predict.js';
// attacks
export type { Attack, AttackConfirmation, AttackProgress, AttackResult, AttackRunOptions } from './attacks/attack.js';
export { type Decide, type DecideOptions, type Decision, type QueryKey, queryStream, attackStream, confirmStream, predictDecider, confirmDecider, baseClassifierDecider } from './attacks/decision.js';
export { PixelGrid, changedLocations } from './attacks/pixel-grid.js';
export { PointwiseAttack, type PointwiseOptions } from './attacks/pointwise.js';
// engine
export { BatchCoalescer, type CoalescedRequest, type CoalescerStats } from './engine/batch-coalescer.js';
export { inFlightInOrder } from './engine/in-flight.js';
export { SmoothedClassifier, type SmoothingOptions, type RunOptions, type RunProgress, type PredictOptions, type CertifyAndPredictOptions, type CertificateAndPrediction } from './engine/smoothed-classifier.js';
export {
  datasetRow,
  datasetRows,
  resolvePredictSettings,
  predictSampleCount,
  certifyRowKeys,
  CERTIFY_ROW_KEYS,
  PREDICT_ROW_KEYS,
  type CertifyRow,
  type PredictRow,
  type PredictField,
  type PredictSettings,
  type PredictSampleConfig,
  type DatasetRunSource,
  type DatasetRunOptions,
  type DatasetRunProgress,
  type DatasetRowOptions,
  type CertifyAllOptions,
  type PredictAllOptions,
} from './engine/dataset-run.js';
export { asyncDispose } from './dispose.js';
export { maxCertifiedRadius, type RadiusQuery, type BoundSource } from './engine/max-certified-radius.js';
export { planSamples, bestParameter, type SamplePlanQuery, type SamplePlan, type RetainChoice } from './engine/sample-planner.js';
// data
export type { Dataset, Example } from './dataset/dataset.js';
// config
export {
  definePlugin,
  withDefault,
  type Plugin,
  type PluginKind,
  type PluginContext,
  type SlotTypes,
  type JsonSchema,
  type PluginDeclaration,
  type PluginOptions,
  type PluginConfigEntry,
  type ConfigOptions,
  type DefaultedKeys,
  type TypedPlugin,
} from './config/plugin.js';
/** TypeBox's schema builder, for `definePlugin({ options: Type.Object({ … }) })` (the version @ablate/core validates with). */
export { Type, type Static } from '@sinclair/typebox';
export { PluginRegistry, PluginConflictError, SLOTS, REQUIRED_SLOTS } from './config/registry.js';
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
