import { dirname, resolve } from 'node:path';
import { registry, type AblateConfig, type PluginKind } from '@ablate/core';
import { UsageError } from './errors.js';
import { MAX_CONFIG_BYTES, readWholeFile } from './read-whole.js';
import { applySets } from './set-flag.js';

/** Flags that override config fields (`ablate certify --retain 45 …`). */
export interface ConfigOverrides {
  model?: string;
  backend?: string;
  perturbation?: string;
  retain?: number;
  levels?: number;
  keepProb?: number;
  sigma?: number;
  parts?: number;
  layout?: string;
  width?: number;
  orientation?: string;
  encoder?: string;
  certifier?: string;
  n0?: number;
  n?: number;
  maxSamples?: number;
  /** `--target-radius ρ`: certifier.targetRadius (sequential). */
  targetRadius?: number;
  alpha?: number;
  seed?: number;
  batchSize?: number;
  /** `--images-in-flight K`: config imagesInFlight. */
  imagesInFlight?: number;
  dataset?: string;
  split?: string;
  dataPath?: string;
  /** `--predict`: also run PREDICT on each image (config `predict`). */
  predict?: boolean;
  /** `--predict-n N`: PREDICT's sample count (config `predict.n`; implies --predict). */
  predictN?: number;
  /** `--sequential`: PREDICT by the sequential test (config `predict.sequential`). */
  sequential?: boolean;
  /** certify's `--predict-sequential`: the same, for the PREDICT that `--predict` adds. */
  predictSequential?: boolean;
  /** `--set path=value` (repeatable): config fields without a flag (see set-flag.ts), applied after the flags. */
  set?: string[];
}

/** With no --config, flags fill this in: MNIST test set, ablation, multichannel, ONNX, Cohen. */
const DEFAULTS = {
  dataset: { type: 'mnist', split: 'test' },
  perturbation: { type: 'ablation' },
  encoder: { type: 'multichannel' },
  classifier: { type: 'onnx' },
  certifier: { type: 'cohen' },
  seed: 0,
};

/**
 * The text of each config file read in this process, by the path as given: a config is read once, so the
 * plug-ins and the run see the same bytes (no time-of-check/time-of-use gap) and `--config /dev/stdin` from a
 * pipe works.
 */
const configTexts = new Map<string, string>();

/**
 * Reads a JSON config file (once per process; see configTexts) of at most MAX_CONFIG_BYTES — a regular file or a
 * pipe; relative paths inside it resolve against its folder (the working directory for a pipe).
 */
export function readConfigFile(file: string): { config: Record<string, any>; baseDir: string } {
  let text = configTexts.get(file);
  if (text === undefined) {
    text = readWholeFile(file, { flag: '--config', maxBytes: MAX_CONFIG_BYTES, pipes: true }).toString('utf8');
    configTexts.set(file, text);
  }
  const baseDir = file.startsWith('/dev/') || file.startsWith('/proc/') ? process.cwd() : dirname(resolve(file));
  try {
    const config = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text); // editors may save a UTF-8 byte-order mark
    if (!config || typeof config !== 'object' || Array.isArray(config)) throw new Error('the top level must be an object');
    return { config, baseDir };
  } catch (error) {
    throw new UsageError('--config', `${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Replaces a slot's type; drops options the new plug-in does not know (e.g. executionProviders for tfjs). */
function retype(slot: Record<string, any> | undefined, kind: PluginKind, type: string): Record<string, any> {
  const plugin = registry.get(kind, type);
  const known = new Set(Object.keys((plugin?.schema.properties as object | undefined) ?? {}));
  const kept = Object.fromEntries(Object.entries(slot ?? {}).filter(([k]) => k !== 'type' && known.has(k)));
  return { type, ...kept };
}

/** Builds the effective config: file (or defaults) with flag overrides applied. Validation happens later. */
export function effectiveConfig(file: string | undefined, o: ConfigOverrides): { config: AblateConfig; baseDir: string } {
  const { config, baseDir } = file ? readConfigFile(file) : { config: structuredClone(DEFAULTS) as Record<string, any>, baseDir: process.cwd() };
  const set = (slot: string, key: string, value: unknown) => {
    if (value === undefined) return;
    config[slot] = { ...(config[slot] ?? {}), [key]: key === 'path' || key === 'model' ? resolve(process.cwd(), String(value)) : value };
  };
  if (o.backend) config.classifier = retype(config.classifier, 'classifier', o.backend);
  if (o.perturbation) config.perturbation = retype(config.perturbation, 'perturbation', o.perturbation);
  if (o.encoder) config.encoder = retype(config.encoder, 'encoder', o.encoder);
  if (o.certifier) config.certifier = retype(config.certifier, 'certifier', o.certifier);
  if (o.dataset) config.dataset = retype(config.dataset, 'dataset', o.dataset);
  set('classifier', 'model', o.model);
  set('perturbation', 'retain', o.retain);
  set('perturbation', 'levels', o.levels);
  set('perturbation', 'keepProb', o.keepProb);
  set('perturbation', 'sigma', o.sigma);
  set('perturbation', 'parts', o.parts);
  set('perturbation', 'layout', o.layout);
  set('perturbation', 'width', o.width);
  set('perturbation', 'orientation', o.orientation);
  set('certifier', 'n0', o.n0);
  set('certifier', 'n', o.n);
  set('certifier', 'maxSamples', o.maxSamples);
  set('certifier', 'targetRadius', o.targetRadius);
  set('certifier', 'alpha', o.alpha);
  set('dataset', 'split', o.split);
  set('dataset', 'path', o.dataPath);
  if (o.seed !== undefined) config.seed = o.seed;
  if (o.batchSize !== undefined) config.batchSize = o.batchSize;
  if (o.imagesInFlight !== undefined) config.imagesInFlight = o.imagesInFlight;
  const sequential = o.sequential || o.predictSequential;
  if (o.predict || o.predictN !== undefined || sequential) {
    config.predict = { ...(config.predict ?? {}), ...(o.predictN !== undefined ? { n: o.predictN } : {}), ...(sequential ? { sequential: true } : {}) };
  }
  if (o.set?.length) applySets(config, o.set);
  return { config: config as AblateConfig, baseDir };
}
