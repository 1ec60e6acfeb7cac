import { resolve } from 'node:path';
import { createSlot, registry, validateConfig, type AblateConfig, type PluginContext, type ResolvedConfig } from '@ablate/core';
import type * as BackendTfjs from '@ablate/backend-tfjs';
import { effectiveConfig, type ConfigOverrides } from '../config.js';
import { UsageError } from '../errors.js';
import { importKnownPackage } from '../plugins.js';
import { prepareOutputFolder, rmdirIfEmpty } from '../results/output-folder.js';
import { createTrainProgress } from '../train-progress.js';

export interface TrainOptions extends ConfigOverrides {
  config?: string;
  out: string;
  epochs: number;
  lr: number;
  count?: number;
  architecture: BackendTfjs.TfjsArchitecture;
  backends?: string;
}

/**
 * `ablate train`: trains a tfjs base classifier under the config's perturbation and encoder (one random draw per
 * minibatch, as the paper does) on the config's dataset (default: the MNIST training split). Refuses an existing
 * --out before anything runs; says which tfjs backend trains (native TensorFlow through @tensorflow/tfjs-node or
 * -gpu, else pure JS), estimates the time from the first batches, and shows progress per batch.
 */
export async function trainCommand(o: TrainOptions, io: { stderr: NodeJS.WriteStream }): Promise<void> {
  const created = prepareModelFolder(o.out);
  try {
    await train(o, io);
  } catch (error) {
    if (created) rmdirIfEmpty(o.out);
    throw error;
  }
}

/** `--out` of train: a new or empty folder (model.json, weights.bin, card.json), checked before training. */
export function prepareModelFolder(out: string): boolean {
  return prepareOutputFolder('--out', out, 'train writes a folder (model.json, weights.bin, card.json)');
}

async function train(o: TrainOptions, io: { stderr: NodeJS.WriteStream }): Promise<void> {
  const out = resolve(o.out);
  const overrides = { ...o, split: o.split ?? (o.config ? undefined : 'train') };
  const { config, baseDir } = effectiveConfig(o.config, overrides);
  const { classifier: _c, certifier: _k, plugins: _p, ...rest } = config as AblateConfig & { plugins?: unknown };
  const tfjs = await importKnownPackage<typeof BackendTfjs>('@ablate/backend-tfjs', [baseDir, process.cwd()], 'ablate train');
  const valid = validateConfig<ResolvedConfig>(rest, registry, { required: ['dataset', 'perturbation', 'encoder'] });
  const context: PluginContext = { baseDir, warn: (m) => io.stderr.write(`warning: ${m}\n`) };
  const dataset = await createSlot(registry, 'dataset', valid.dataset!, context);
  context.dataset = dataset;
  const perturbation = await createSlot(registry, 'perturbation', valid.perturbation, context);
  const encoder = await createSlot(registry, 'encoder', valid.encoder, context);
  const progress = createTrainProgress(io.stderr);
  try {
    const { backend, history } = await tfjs.trainTfjs({
      dataset,
      perturbation,
      encoder,
      out,
      architecture: o.architecture,
      epochs: o.epochs,
      batchSize: o.batchSize ?? 128,
      learningRate: o.lr,
      count: o.count,
      seed: valid.seed ?? 0,
      backends: o.backends ? (o.backends.split(',') as BackendTfjs.TfjsBackendName[]) : undefined,
      onStart: (s) => progress.start(s),
      onBatch: (b) => progress.batch(b),
      onEpoch: (e) => progress.epoch(e),
    });
    progress.stop();
    io.stderr.write(`trained on ${backend} (${history.length} epochs); wrote ${o.out}/model.json, weights.bin, card.json\n`);
  } finally {
    progress.stop();
  }
}
