import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CnnSpec, CnnWeights } from './cnn.js';

/**
 * Builds the same CNN as a tfjs LayersModel taking NHWC input [N, H, W, C] (tfjs convolutions are NHWC) and
 * writes it as model.json + weights into `dir`. Weights are converted from the PyTorch/ONNX layout:
 * conv [out, in, kh, kw] → [kh, kw, in, out]; the first dense layer's rows are permuted from CHW-flatten
 * order to HWC-flatten order so that both models compute the same function.
 */
export async function writeTfjsCnn(spec: CnnSpec, weights: CnnWeights, dir: string): Promise<void> {
  const model = tf.sequential();
  spec.convs.forEach((c, i) => {
    if (c.kernel !== 2 * c.pad + c.stride) throw new Error('writeTfjsCnn supports only convs where "same" padding equals the ONNX padding');
    model.add(
      tf.layers.conv2d({
        ...(i === 0 ? { inputShape: [spec.size, spec.size, spec.inChannels] } : {}),
        filters: c.out,
        kernelSize: c.kernel,
        strides: c.stride,
        padding: 'same',
        activation: 'relu',
        dataFormat: 'channelsLast',
      }),
    );
  });
  model.add(tf.layers.flatten());
  spec.dense.forEach((units, i) => model.add(tf.layers.dense({ units, activation: i === spec.dense.length - 1 ? 'linear' : 'relu' })));

  const values: tf.Tensor[] = [];
  for (const c of weights.convs) {
    const [o, inC, kh, kw] = c.shape;
    values.push(tf.tensor4d(c.weight, [o, inC, kh, kw]).transpose([2, 3, 1, 0]), tf.tensor1d(c.bias));
  }
  const { channels, size } = weights.flat;
  weights.dense.forEach((d, i) => {
    const [out, inputs] = d.shape;
    let w = tf.tensor2d(d.weight, [out, inputs]).transpose(); // [in, out], rows in CHW order
    if (i === 0) {
      // row for (h, w, c) in HWC order = row (c, h, w) in CHW order
      const perm = new Int32Array(inputs);
      let r = 0;
      for (let h = 0; h < size; h++) for (let x = 0; x < size; x++) for (let c = 0; c < channels; c++) perm[r++] = c * size * size + h * size + x;
      w = tf.gather(w, tf.tensor1d(perm, 'int32'));
    }
    values.push(w, tf.tensor1d(d.bias));
  });
  model.setWeights(values);
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightsFile = 'weights.bin';
      writeFileSync(join(dir, weightsFile), Buffer.from(artifacts.weightData as ArrayBuffer));
      writeFileSync(
        join(dir, 'model.json'),
        JSON.stringify({
          format: 'layers-model',
          generatedBy: 'ablate-testing',
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  tf.dispose(values);
  model.dispose();
}
