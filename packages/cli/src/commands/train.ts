import { mkdirSync, readdirSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createSlot, registry, validateConfig, type AblateConfig, type PluginContext, type ResolvedConfig } from '@ablate/core';
import type * as BackendTfjs from '@ablate/backend-tfjs';
import { effectiveConfig, type ConfigOverrides } from '../config.js';
import { UsageError } from '../errors.js';
import { importKnownPackage } from '../plugins.js';
import { pathError } from '../results/file-errors.js';
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

function rmdirIfEmpty(folder: string): void {
  try {
    rmdirSync(folder); // fails unless empty: only the folder this run created and left empty goes
  } catch {
    /* not empty or gone */
  }
}

/**
 * Checks, before any training, that `--out` is a new or empty folder this run may write (model.json,
 * weights.bin, card.json): an existing file or a folder with anything in it is refused with exit 2 and left
 * unchanged, so a trained model or any other file is never overwritten. Returns whether the folder was created.
 */
export function prepareModelFolder(out: string): boolean {
  const folder = resolve(out);
  let exists = false;
  try {
    const stat = statSync(folder);
    exists = true;
    if (!stat.isDirectory()) throw new UsageError('--out', `${out} is a file; train writes a folder (model.json, weights.bin, card.json)`, 'give a new folder name');
    const entries = readdirSync(folder);
    if (entries.length > 0) {
      throw new UsageError('--out', `${out} already holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}; it was left unchanged`, 'give a new or empty folder (train never overwrites a model)');
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw pathError('--out', out, error);
  }
  try {
    if (!exists) mkdirSync(folder, { recursive: true });
    const probe = join(folder, `.ablate-write-test-${process.pid}`);
    writeFileSync(probe, '', { flag: 'wx' });
    unlinkSync(probe);
  } catch (error) {
    if (!exists) rmdirIfEmpty(folder);
    throw pathError('--out', out, error, 'choose a folder you may write to');
  }
  return !exists;
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
