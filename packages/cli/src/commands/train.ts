import { createSlot, registry, validateConfig, type AblateConfig, type PluginContext } from '@ablate/core';
import { trainTfjs, type TfjsArchitecture, type TfjsBackendName } from '@ablate/backend-tfjs';
import '@ablate/datasets';
import { effectiveConfig, type ConfigOverrides } from '../config.js';

export interface TrainOptions extends ConfigOverrides {
  config?: string;
  out: string;
  epochs: number;
  lr: number;
  count?: number;
  architecture: TfjsArchitecture;
  backends?: string;
}

/**
 * `ablate train`: trains a tfjs base classifier under the config's perturbation and encoder (one random draw per
 * minibatch, as the paper does) on the config's dataset (default: the MNIST training split).
 */
export async function trainCommand(o: TrainOptions, io: { stderr: NodeJS.WriteStream }): Promise<void> {
  const overrides = { ...o, split: o.split ?? (o.config ? undefined : 'train') };
  const { config, baseDir } = effectiveConfig(o.config, overrides);
  const valid = validateConfig<AblateConfig>({ ...config, classifier: undefined, certifier: undefined }, registry, { required: ['dataset', 'perturbation', 'encoder'] });
  const context: PluginContext = { baseDir, warn: (m) => io.stderr.write(`warning: ${m}\n`) };
  const dataset = await createSlot(registry, 'dataset', valid.dataset!, context);
  context.dataset = dataset;
  const perturbation = await createSlot(registry, 'perturbation', valid.perturbation, context);
  const encoder = await createSlot(registry, 'encoder', valid.encoder, context);
  const { backend, history } = await trainTfjs({
    dataset,
    perturbation,
    encoder,
    out: o.out,
    architecture: o.architecture,
    epochs: o.epochs,
    batchSize: o.batchSize ?? 128,
    learningRate: o.lr,
    count: o.count,
    seed: valid.seed ?? 0,
    backends: o.backends ? (o.backends.split(',') as TfjsBackendName[]) : undefined,
    onEpoch: (e) => io.stderr.write(`epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, accuracy ${(100 * e.accuracy).toFixed(2)}% (${e.seconds.toFixed(1)} s)\n`),
  });
  io.stderr.write(`trained on ${backend} (${history.length} epochs); wrote ${o.out}/model.json, weights.bin, card.json\n`);
}
