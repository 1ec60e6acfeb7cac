import * as tf from '@tensorflow/tfjs-core';
import type { Sequential } from '@tensorflow/tfjs-layers';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentError, encodedShape, PerturbedBatch, Rng, type Dataset, type Encoder, type Perturbation } from '@ablate/core';
import { selectBackend, type TfjsBackendName } from './tfjs-backends.js';
import { toLayout } from './tfjs-classifier.js';

/** Architectures `trainTfjs` can build (NHWC input). `paper` is the paper's MNIST CNN; `tiny` is for tests. */
export type TfjsArchitecture = 'paper' | 'tiny';

/** Options of `trainTfjs`. */
export interface TfjsTrainOptions {
  dataset: Dataset;
  perturbation: Perturbation;
  encoder: Encoder;
  out: string;
  architecture?: TfjsArchitecture;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Train on the first `count` images only (default: all). */
  count?: number;
  seed?: number;
  /** Backend order (default `["tensorflow", "cpu"]`: tfjs-node, then tfjs-node-gpu, then pure JS). */
  backends?: readonly TfjsBackendName[];
  /** Called once the backend is chosen, before the first batch. */
  onStart?: (info: TrainStart) => void;
  /** Called after every minibatch. */
  onBatch?: (info: TrainBatch) => void;
  /** Called after every epoch. */
  onEpoch?: (info: TrainEpoch) => void;
}

/** What `trainTfjs` reports before training. */
export interface TrainStart {
  /** The tfjs backend in use (`tensorflow` is native libtensorflow; `wasm`/`cpu` are much slower). */
  backend: TfjsBackendName;
  /** Why the backends before it were skipped (e.g. `tensorflow (@tensorflow/tfjs-node is not installed, …)`). */
  skipped: string[];
  batchesPerEpoch: number;
  epochs: number;
}

/** What `trainTfjs` reports after each minibatch. */
export interface TrainBatch {
  epoch: number;
  /** 1-based index of the batch within its epoch. */
  batch: number;
  batchesPerEpoch: number;
  loss: number;
  /** Seconds since training started. */
  seconds: number;
}

/** What `trainTfjs` reports after each epoch (means over its batches). */
export interface TrainEpoch {
  epoch: number;
  loss: number;
  accuracy: number;
  seconds: number;
}

function buildModel(tfl: typeof import('@tensorflow/tfjs-layers'), arch: TfjsArchitecture, shape: [number, number, number], classes: number): Sequential {
  const [h, w, c] = shape;
  const model = tfl.sequential();
  const convs = arch === 'paper' ? [64, 128] : [4];
  convs.forEach((filters, i) =>
    model.add(tfl.layers.conv2d({ ...(i === 0 ? { inputShape: [h, w, c] } : {}), filters, kernelSize: 4, strides: 2, padding: 'same', activation: 'relu' })),
  );
  model.add(tfl.layers.flatten());
  for (const units of arch === 'paper' ? [500, 100] : [16]) model.add(tfl.layers.dense({ units, activation: 'relu' }));
  model.add(tfl.layers.dense({ units: classes }));
  return model;
}

/**
 * Trains a base classifier with TensorFlow.js the way the paper does: the perturbation used at test time, with
 * one random draw shared by every image of a minibatch (`sharedAcrossBatch`), cross-entropy, Adam. Writes a
 * LayersModel (NHWC) + model card to `out`. Practical with @tensorflow/tfjs-node-gpu; the wasm backend has no
 * convolution gradients and the pure-JS cpu backend only suits tiny models.
 */
export async function trainTfjs(o: TfjsTrainOptions): Promise<{ backend: string; history: TrainEpoch[] }> {
  const epochs = o.epochs ?? 1;
  const batchSize = o.batchSize ?? 128;
  const count = Math.min(o.count ?? o.dataset.size, o.dataset.size);
  if (!Number.isInteger(epochs) || epochs < 1) throw new ArgumentError('epochs', `must be an integer ≥ 1, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError('batchSize', `must be an integer ≥ 1, got ${batchSize}`);
  if (existsSync(o.out) && (!statSync(o.out).isDirectory() || readdirSync(o.out).length > 0)) {
    throw new ArgumentError('out', `${o.out} already exists${statSync(o.out).isDirectory() ? ' and is not empty' : ' (a file)'}`, 'choose a new folder (a trained model is never overwritten)');
  }
  const { backend, skipped } = await selectBackend(o.backends ?? ['tensorflow', 'cpu']);
  const shape = o.dataset.shape;
  o.perturbation.validate(shape);
  const [C, H, W] = encodedShape(o.encoder, shape);
  const tfl = await import('@tensorflow/tfjs-layers');
  const model = buildModel(tfl, o.architecture ?? 'paper', [H, W, C], o.dataset.numClasses);
  const classes = o.dataset.numClasses;
  // The model outputs logits (what the backends take the argmax of): softmax cross-entropy on integer labels.
  const loss = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred);
  model.compile({ optimizer: tf.train.adam(o.learningRate ?? 1e-3), loss, metrics: [tfl.metrics.categoricalAccuracy] });
  const rng = new Rng(o.seed ?? 0, 0x7a11);
  const F = C * H * W;
  const batch = new PerturbedBatch(shape, 1);
  const encoded = new Float32Array(batchSize * F);
  const one = new Float32Array(F);
  const history: TrainEpoch[] = [];
  const order = Array.from({ length: count }, (_, i) => i);
  const batchesPerEpoch = Math.ceil(count / batchSize);
  o.onStart?.({ backend, skipped, batchesPerEpoch, epochs });
  const started = performance.now();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const t0 = performance.now();
    for (let i = count - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let lossSum = 0;
    let accSum = 0;
    let steps = 0;
    for (let start = 0; start < count; start += batchSize) {
      const ids = order.slice(start, start + batchSize);
      // One mask per minibatch: draw it once (row 0 of a 1-row batch), apply it to every image.
      const labels = new Int32Array(ids.length);
      let mask: Uint8Array | undefined;
      ids.forEach((id, r) => {
        const { image, label } = o.dataset.get(id);
        labels[r] = label;
        if (!mask || !o.perturbation.usesNull) {
          o.perturbation.sample(image.data, shape, rng, batch, 1);
          mask = batch.kept.slice();
        } else {
          // same kept locations, this image's values
          const d = batch.locationsPerSample;
          for (let c = 0; c < shape[0]; c++) for (let p = 0; p < d; p++) batch.values[c * d + p] = mask[p] ? image.data[c * d + p]! : 0;
        }
        o.encoder.encode(batch, 1, one);
        encoded.set(one, r * F);
      });
      const x = tf.tidy(() => toLayout(encoded, ids.length, [C, H, W], 'NHWC'));
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), classes));
      const result = (await model.trainOnBatch(x, y)) as number[];
      tf.dispose([x, y]);
      lossSum += result[0]!;
      accSum += result[1]!;
      steps++;
      o.onBatch?.({ epoch, batch: steps, batchesPerEpoch, loss: result[0]!, seconds: (performance.now() - started) / 1000 });
    }
    const info = { epoch, loss: lossSum / steps, accuracy: accSum / steps, seconds: (performance.now() - t0) / 1000 };
    history.push(info);
    o.onEpoch?.(info);
  }
  mkdirSync(o.out, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      writeFileSync(join(o.out, 'weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
      writeFileSync(
        join(o.out, 'model.json'),
        JSON.stringify({ format: 'layers-model', generatedBy: 'ablate train', modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  writeFileSync(
    join(o.out, 'card.json'),
    `${JSON.stringify({ trainedWith: 'ablate train (tfjs)', backend, perturbation: o.perturbation.describe(), encoder: o.encoder.describe(), dataset: o.dataset.name, images: count, epochs, batchSize, learningRate: o.learningRate ?? 1e-3, seed: o.seed ?? 0, architecture: o.architecture ?? 'paper', history, created: new Date().toISOString() }, null, 2)}\n`,
  );
  model.dispose();
  return { backend, history };
}
