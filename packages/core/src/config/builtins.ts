import { PointwiseAttack, type PointwiseOptions } from '../attacks/pointwise.js';
import { CohenCertifier } from '../certifiers/cohen.js';
import { LecuyerCertifier } from '../certifiers/lecuyer.js';
import { VoteGapCertifier } from '../certifiers/vote-gap.js';
import { BandPerturbation, type BandOrientation } from '../perturbations/band.js';
import { PartitionPerturbation } from '../perturbations/partition.js';
import { SequentialCertifier, SEQUENTIAL_DEFAULTS, type SequentialOptions } from '../certifiers/sequential.js';
import { MAX_CHECKS, SCHEDULE_DEFAULTS, SEQUENTIAL_MAX_SAMPLES } from '../certifiers/check-schedule.js';
import { IdentityEncoder } from '../encoders/identity.js';
import { MeanEncoder } from '../encoders/mean.js';
import { MultichannelEncoder } from '../encoders/multichannel.js';
import type { Normalization } from '../encoders/normalization.js';
import { ConfigError } from '../errors.js';
import { AblationPerturbation } from '../perturbations/ablation.js';
import { GaussianPerturbation } from '../perturbations/gaussian.js';
import { LeeNoisePerturbation } from '../perturbations/lee-noise.js';
import type { SamplingOptions } from '../certifiers/sampling-options.js';
import { MAX_ATTACK_RESTARTS, MAX_SAMPLES, MIN_ALPHA, MIN_BOUND_LEVEL } from '../limits.js';
import { definePlugin, type JsonSchema, type Plugin } from './plugin.js';

const numberList: JsonSchema = { type: 'array', minItems: 1, items: { type: 'number' } };
const normalizeSchema: JsonSchema = {
  type: 'object',
  description: 'Per-channel (s − mean)/std applied to retained values before encoding (the paper does this on ImageNet).',
  additionalProperties: false,
  required: ['mean', 'std'],
  properties: { mean: numberList, std: { type: 'array', minItems: 1, items: { type: 'number', exclusiveMinimum: 0 } } },
};
const samplingSchema = {
  type: 'object',
  required: ['alpha', 'n0', 'n'],
  properties: {
    alpha: { type: 'number', minimum: MIN_ALPHA, exclusiveMaximum: 1, default: 0.05, description: `Failure probability α of the certificate, in [${MIN_ALPHA}, 1).` },
    n0: { type: 'integer', minimum: 1, maximum: MAX_SAMPLES, default: 1000, description: `Samples used to select the top class (≤ ${MAX_SAMPLES}).` },
    n: { type: 'integer', minimum: 1, maximum: MAX_SAMPLES, default: 10000, description: `Samples used to bound its probability (≤ ${MAX_SAMPLES}).` },
  },
} satisfies JsonSchema;

export const ablationPlugin = definePlugin<'perturbation', { retain: number }>({
  kind: 'perturbation',
  type: 'ablation',
  description: 'Randomized ablation: keep `retain` (k) of the d pixel locations, the rest NULL (Levine & Feizi 2020).',
  schema: { required: ['retain'], properties: { retain: { type: 'integer', minimum: 1, description: 'k, pixel locations kept per sample.' } } },
  create: (o) => new AblationPerturbation(o),
});

export const leeNoisePlugin = definePlugin<'perturbation', { levels: number; keepProb: number }>({
  kind: 'perturbation',
  type: 'lee-noise',
  description: 'Lee et al. (2019) discrete noise: keep each feature with probability keepProb (κ), else a random other of `levels` (K) values.',
  schema: {
    required: ['keepProb'],
    properties: {
      levels: { type: 'integer', minimum: 2, maximum: 65536, default: 256, description: 'K, alphabet size (256 for 8-bit images).' },
      keepProb: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'κ, probability a feature is kept.' },
    },
  },
  create: (o) => new LeeNoisePerturbation(o),
});

export const gaussianPlugin = definePlugin<'perturbation', { sigma: number }>({
  kind: 'perturbation',
  type: 'gaussian',
  description: 'Additive Gaussian noise N(0, σ²) for the L2 threat model (Cohen et al. 2019).',
  schema: { required: ['sigma'], properties: { sigma: { type: 'number', exclusiveMinimum: 0, description: 'σ, noise standard deviation.' } } },
  create: (o) => new GaussianPerturbation(o),
});

export const partitionPlugin = definePlugin<'perturbation', { parts: number; layout: 'stride' | 'random'; seed?: number }>({
  kind: 'perturbation',
  type: 'partition',
  description: 'Feature partitions (Hammoudeh & Lowd 2023): T fixed disjoint parts of the pixel locations, one ablation per part; enumerable (vote-gap).',
  schema: {
    required: ['parts'],
    properties: {
      parts: { type: 'integer', minimum: 1, description: 'T, number of parts (≤ d pixel locations).' },
      layout: { enum: ['stride', 'random'], default: 'stride', description: 'stride: location i in part i mod T; random: a seeded random balanced partition.' },
      seed: { type: 'integer', minimum: -2147483648, maximum: 4294967295, description: 'Seed of the random layout (default 0).' },
    },
  },
  create: (o) => new PartitionPerturbation(o),
});

export const bandPlugin = definePlugin<'perturbation', { width: number; orientation: BandOrientation }>({
  kind: 'perturbation',
  type: 'band',
  description: 'Column/row/block smoothing for patch attacks (Levine & Feizi 2020b): every band of `width` b (wrap-around) is one ablation; enumerable (vote-gap).',
  schema: {
    required: ['width'],
    properties: {
      width: { type: 'integer', minimum: 1, description: 'b, band width (block side) in pixels.' },
      orientation: { enum: ['column', 'row', 'block'], default: 'column', description: 'column: W bands; row: H bands; block: H·W b×b blocks.' },
    },
  },
  create: (o) => new BandPerturbation(o),
});

export const multichannelPlugin = definePlugin<'encoder', { normalize?: Normalization }>({
  kind: 'encoder',
  type: 'multichannel',
  description: 'NULL as (0,0): each channel s becomes (s, 1 − s); C → 2C channels (the paper’s encoding).',
  schema: { properties: { normalize: normalizeSchema } },
  create: (o) => new MultichannelEncoder(o.normalize),
});

export const meanPlugin = definePlugin<'encoder', { fill?: number | number[]; normalize?: Normalization }>({
  kind: 'encoder',
  type: 'mean',
  description: 'NULL as a per-channel fill value, by default the dataset’s training mean (paper, Table 8).',
  schema: {
    properties: {
      fill: { oneOf: [{ type: 'number' }, numberList], description: 'NULL fill value(s) in input units; defaults to the dataset mean.' },
      normalize: normalizeSchema,
    },
  },
  create: (o, ctx) => {
    const fill = o.fill ?? ctx.dataset?.mean;
    if (fill === undefined) {
      throw new ConfigError([{ path: '/encoder/fill', message: 'is required when the config names no dataset that knows its mean (e.g. 0.1307 for MNIST)' }]);
    }
    return new MeanEncoder(typeof fill === 'number' ? [fill] : [...fill], o.normalize);
  },
});

export const identityPlugin = definePlugin<'encoder', { normalize?: Normalization }>({
  kind: 'encoder',
  type: 'identity',
  description: 'Values as they are (optionally normalized): for schemes without NULL.',
  schema: { properties: { normalize: normalizeSchema } },
  create: (o) => new IdentityEncoder(o.normalize),
});

export const cohenPlugin = definePlugin<'certifier', SamplingOptions>({
  kind: 'certifier',
  type: 'cohen',
  description: 'Corollary 1 / Cohen et al.: one-sided Clopper–Pearson bound on p_A, certify while lower(pA, ρ) > ½.',
  schema: samplingSchema,
  create: (o) => new CohenCertifier(o),
});

export const lecuyerPlugin = definePlugin<'certifier', SamplingOptions>({
  kind: 'certifier',
  type: 'lecuyer',
  description: 'Corollary 2 / Lecuyer et al.: lower(pA, ρ) > upper(pB, ρ), bounds simultaneous over classes (Bonferroni).',
  schema: samplingSchema,
  create: (o, ctx) => new LecuyerCertifier(o, ctx.classifier?.numClasses ?? 2),
});

export const voteGapPlugin = definePlugin<'certifier', Record<string, never>>({
  kind: 'certifier',
  type: 'vote-gap',
  description: 'Deterministic certificate from the exact votes of all T ablations of an enumerating perturbation (partition, band): n_A − Δ(ρ) > n_B + Δ(ρ); no α.',
  schema: { properties: {} },
  create: (_o, ctx) => {
    if (ctx.perturbation && !ctx.perturbation.enumeration) {
      throw new ConfigError([
        {
          path: '/certifier/type',
          message: `vote-gap needs a perturbation that enumerates its ablations (partition, band), but "${ctx.perturbation.type}" only samples: use the cohen or lecuyer certifier with it`,
        },
      ]);
    }
    return new VoteGapCertifier();
  },
});

export const sequentialPlugin = definePlugin<'certifier', SequentialOptions>({
  kind: 'certifier',
  type: 'sequential',
  description: 'Corollary 1 with an anytime-valid Clopper–Pearson confidence sequence: stops once the radius is decided (same α, far fewer samples).',
  schema: {
    required: ['alpha', 'maxSamples'],
    properties: {
      alpha: { type: 'number', minimum: MIN_ALPHA, exclusiveMaximum: 1, default: 0.05, description: `Failure probability α of the certificate, whatever check it stops at, in [${MIN_ALPHA}, 1).` },
      maxSamples: {
        type: 'integer',
        minimum: 2,
        maximum: SEQUENTIAL_MAX_SAMPLES,
        default: 11000,
        description: `Budget of base-classifier evaluations per input, selection included (at most ${SEQUENTIAL_MAX_SAMPLES}: votes are 32-bit counts).`,
      },
      n0: { type: 'integer', minimum: 1, default: SEQUENTIAL_DEFAULTS.n0, description: 'Most samples spent selecting the top class (< maxSamples).' },
      selectionStep: { type: 'integer', minimum: 1, default: SEQUENTIAL_DEFAULTS.selectionStep, description: 'Selection draws this many samples at a time.' },
      selectionAlpha: {
        type: 'number',
        minimum: MIN_BOUND_LEVEL,
        exclusiveMaximum: 1,
        default: SEQUENTIAL_DEFAULTS.selectionAlpha,
        description: 'Selection stops when the top-two binomial test reaches this p-value (spends no α).',
      },
      slack: { type: 'number', minimum: 0, default: SEQUENTIAL_DEFAULTS.slack, description: 'Stop once r(U) − r(L) ≤ slack (0: the radius is decided).' },
      targetRadius: { type: 'number', minimum: 0, description: 'Only this radius matters: stop once it is certified or out of reach (default: seek the largest).' },
      futilityAlpha: {
        type: 'number',
        minimum: MIN_BOUND_LEVEL,
        exclusiveMaximum: 1,
        default: SEQUENTIAL_DEFAULTS.futilityAlpha,
        description: 'Stop when even the (1 − futilityAlpha) upper bound rate could not earn a larger radius by the budget (spends no α).',
      },
      focusShare: {
        type: 'number',
        minimum: 0,
        exclusiveMaximum: 1,
        // no schema default: a filled-in 0 would make sidecars written before this option differ on --resume
        description: `Share of α spent at one focus check placed where the selection samples predict the radius is decided; the rest on the geometric schedule (default ${SEQUENTIAL_DEFAULTS.focusShare}: off). Experimental: see docs/performance.md.`,
      },
      pilotSamples: {
        type: 'integer',
        minimum: 1,
        maximum: SEQUENTIAL_MAX_SAMPLES,
        description: `Selection draws at least this many samples (at most n0; default ${SEQUENTIAL_DEFAULTS.pilotSamples}); they place the focus check.`,
      },
      firstCheck: { type: 'integer', minimum: 1, default: SCHEDULE_DEFAULTS.firstCheck, description: 'Estimation samples at the first check.' },
      ratio: { type: 'number', exclusiveMinimum: 1, default: SCHEDULE_DEFAULTS.ratio, description: `Growth of the sample count from one check to the next; the schedule may have at most ${MAX_CHECKS} checks (a ratio too close to 1 for the budget is refused).` },
      finalShare: {
        type: 'number',
        exclusiveMinimum: 0,
        exclusiveMaximum: 1,
        default: SCHEDULE_DEFAULTS.finalShare,
        description: `Share of α spent on the last check (at the budget); the rest is split evenly over the earlier checks. Both derived levels (finalShare·α and (1 − finalShare)·α/(J − 1)) must be ≥ ${MIN_BOUND_LEVEL}.`,
      },
    },
  },
  create: (o) => new SequentialCertifier(o),
});

export const pointwisePlugin = definePlugin<'attack', PointwiseOptions>({
  kind: 'attack',
  type: 'pointwise',
  description: 'Black-box Pointwise L0 attack (Schott et al. 2019): salt-and-pepper start, pixel resets, binary-search refinement.',
  schema: {
    properties: {
      restarts: { type: 'integer', minimum: 1, maximum: MAX_ATTACK_RESTARTS, default: 10, description: 'Independent restarts per image; the smallest adversarial is kept (at most MAX_ATTACK_RESTARTS = 10000).' },
      levels: { type: 'integer', minimum: 2, maximum: 65536, default: 256, description: 'Values per channel of the pixel grid (256: 8-bit images).' },
      initSteps: { type: 'integer', minimum: 1, default: 100, description: 'Salt-and-pepper noise probabilities tried per repetition.' },
      initRepetitions: { type: 'integer', minimum: 1, default: 1, description: 'Salt-and-pepper repetitions (foolbox 2 uses 10).' },
      refine: { type: 'boolean', default: true, description: 'Run the binary-search refinement stage.' },
      maxRefinementPasses: { type: 'integer', minimum: 0, description: 'Cap on refinement passes (default: until a pass improves nothing).' },
      maxQueries: { type: 'integer', minimum: 1, description: 'Cap on queries per restart (default: none).' },
    },
  },
  create: (o) => new PointwiseAttack(o),
});

/** The plug-ins @ablate/core registers itself. @category Plug-in authors */
export const builtinPlugins: readonly Plugin[] = [
  ablationPlugin,
  leeNoisePlugin,
  gaussianPlugin,
  partitionPlugin,
  bandPlugin,
  multichannelPlugin,
  meanPlugin,
  identityPlugin,
  cohenPlugin,
  lecuyerPlugin,
  voteGapPlugin,
  sequentialPlugin,
  pointwisePlugin,
];
