import type { PointwiseOptions } from '../attacks/pointwise.js';
import type { SequentialOptions } from '../certifiers/sequential.js';
import type { SamplingOptions } from '../certifiers/sampling-options.js';
import type { Normalization } from '../encoders/normalization.js';

/**
 * Typed configs. Each `…OptionsMap` maps a plug-in `type` to its options (as written in a config, defaults
 * optional). Plug-in packages add their types by declaration merging, so that `AblateConfig` checks and
 * autocompletes them once the package is imported:
 *
 * @example
 * // in a plug-in package's source (it ends up in its .d.ts)
 * declare module '@ablate/core' {
 *   interface PerturbationOptionsMap {
 *     'block-ablation': { block: number };
 *   }
 * }
 * @category App authors
 */
export interface PerturbationOptionsMap {
  /** Randomized ablation (Levine & Feizi 2020): keep `retain` = k of the d pixel locations. */
  ablation: { retain: number };
  /** Lee et al. (2019) discrete noise: keep a feature with probability κ, else one of the K − 1 other levels. */
  'lee-noise': { keepProb: number; levels?: number };
  /** Additive Gaussian noise N(0, σ²) (Cohen et al. 2019). */
  gaussian: { sigma: number };
  /** Feature partitions (Hammoudeh & Lowd 2023): T fixed disjoint parts, each classified once (enumerated). */
  partition: { parts: number; layout?: 'stride' | 'random'; seed?: number };
  /** Column / row / block bands of width b with wrap-around (Levine & Feizi 2020b), enumerated. */
  band: { width: number; orientation?: 'column' | 'row' | 'block' };
}

/** Encoder types and their options (see `PerturbationOptionsMap` for how plug-ins add theirs). @category App authors */
export interface EncoderOptionsMap {
  /** NULL as (0, 0): each channel s becomes (s, 1 − s) (the paper's encoding). */
  multichannel: { normalize?: Normalization };
  /** NULL as a per-channel fill value (default: the dataset mean). */
  mean: { fill?: number | number[]; normalize?: Normalization };
  /** Values as they are, for schemes without NULL. */
  identity: { normalize?: Normalization };
}

/** Certifier types and their options (defaults α = 0.05, n0 = 1000, n = 10000). @category App authors */
export interface CertifierOptionsMap {
  /** Corollary 1 / Cohen et al. */
  cohen: Partial<SamplingOptions>;
  /** Corollary 2 / Lecuyer et al. */
  lecuyer: Partial<SamplingOptions>;
  /** Corollary 1 with an anytime-valid confidence sequence: stops once the radius is decided. */
  sequential: Partial<SequentialOptions>;
  /** Deterministic certificate from the exact votes of an enumerating perturbation (no α). */
  'vote-gap': Record<string, never>;
}

/** Options of the built-in attacks (`"attack": { "type": "pointwise", … }`); plug-ins add theirs. */
export interface AttackOptionsMap {
  /** The black-box Pointwise L0 attack (Schott et al. 2019). */
  pointwise: Partial<PointwiseOptions>;
}

/** Classifier types: empty in core; @ablate/backend-onnx adds `onnx`, @ablate/backend-tfjs `tfjs`. @category App authors */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface ClassifierOptionsMap {}

/** Dataset types: empty in core; @ablate/datasets adds `mnist`, `fashion-mnist`, `cifar10`, `image-folder`. @category App authors */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface DatasetOptionsMap {}

/** A slot of a config: `type` plus that plug-in's options (the untyped form). @category App authors */
export interface SlotConfig {
  type: string;
  [option: string]: unknown;
}

/**
 * The config of one slot from its options map: a union discriminated by `type`. A slot whose map is empty
 * (no package declaring such types is imported) accepts any `SlotConfig`.
 * @category App authors
 */
export type SlotConfigOf<M> = [keyof M] extends [never] ? SlotConfig : { [T in keyof M & string]: { type: T } & M[T] }[keyof M & string];

/**
 * A whole config, as in docs/architecture.md, typed from the options maps: the built-in plug-ins' options, plus
 * those the imported plug-in packages declare. A value read from JSON (`any`) is accepted as it is and
 * validated at run time against the registry's JSON Schema.
 *
 * @example
 * import { createContainer, type AblateConfig } from '@ablate/core';
 * import '@ablate/backend-onnx';
 * const config: AblateConfig = {
 *   perturbation: { type: 'ablation', retain: 45 },
 *   encoder: { type: 'multichannel' },
 *   classifier: { type: 'onnx', model: 'models/mnist-k45-multichannel.onnx' },
 *   certifier: { type: 'cohen', n: 10000 },
 * };
 * const rt = await createContainer(config);
 * @category App authors
 */
export interface AblateConfig {
  /** The JSON Schema of the file, for editors (`ablate schema` writes it). */
  $schema?: string;
  /** Plug-in modules the ablate CLI imports first (createContainer ignores this: import them yourself). */
  plugins?: string[];
  /** Seed of every random draw (default 0). */
  seed?: number;
  /** Samples per classifier call (overrides `classifier.batchSize`). */
  batchSize?: number;
  /** Images computed at once in a dataset run, their classifier requests merged into shared batches (default 1; rows unchanged). */
  imagesInFlight?: number;
  dataset?: SlotConfigOf<DatasetOptionsMap>;
  perturbation: SlotConfigOf<PerturbationOptionsMap>;
  encoder: SlotConfigOf<EncoderOptionsMap>;
  classifier: SlotConfigOf<ClassifierOptionsMap>;
  certifier: SlotConfigOf<CertifierOptionsMap>;
  /**
   * Also run Cohen et al.'s PREDICT on each input (`ablate certify --predict`), with n samples (default:
   * certifier.n, or certifier.maxSamples for the sequential certifier); `sequential`: the sequential test (stops once the top class is decided, at most n samples).
   */
  predict?: PredictConfig;
  /** Optional: the attack `ablate attack` runs (default pointwise). */
  attack?: SlotConfigOf<AttackOptionsMap>;
}

/** The config's `predict` key. */
export interface PredictConfig {
  n?: number;
  sequential?: boolean;
}

/** A validated config as `createContainer` holds it: every slot untyped (`type` + options, defaults filled in). @category App authors */
export interface ResolvedConfig {
  $schema?: string;
  plugins?: string[];
  seed?: number;
  batchSize?: number;
  imagesInFlight?: number;
  dataset?: SlotConfig;
  perturbation: SlotConfig;
  encoder: SlotConfig;
  classifier: SlotConfig;
  certifier: SlotConfig;
  predict?: PredictConfig;
  attack?: SlotConfig;
}
