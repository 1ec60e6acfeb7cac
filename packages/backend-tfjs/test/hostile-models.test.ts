import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { ModelError } from '@ablate/core';
import { cnnWeights, smallCnn, writeTfjsCnn } from '@ablate/testing';
import { TfjsClassifier } from '../src/index.js';
import { writeLinearGraphModel } from './helpers/graph-model.js';

// Broken models through the real tfjs backend: none may produce a vote.
const dir = mkdtempSync(join(tmpdir(), 'ablate-tfjs-hostile-'));
const input = Float32Array.from({ length: 4 * 2 * 784 }, (_, i) => ((i * 37) % 101) / 100);

describe('the tfjs backend refuses broken model outputs on every call', () => {
  it('a LayersModel with a NaN weight: a ModelError naming the model and the row count', async () => {
    const spec = smallCnn(2);
    const weights = cnnWeights(spec, 3);
    weights.dense[weights.dense.length - 1]!.bias[3] = Number.NaN;
    const folder = join(dir, 'nan');
    await writeTfjsCnn(spec, weights, folder);
    const c = await TfjsClassifier.create({ model: folder, backends: ['cpu'] });
    await expect(c.classify(input, 4, [2, 28, 28])).rejects.toThrow(/nan returned logits without a valid argmax in 4 of 4 rows of a batch \(first: row 0 = \[.*NaN/);
    c.dispose();
  });

  it('the same model without the NaN classifies (the control), and no tensor leaks on either path', async () => {
    const spec = smallCnn(2);
    const folder = join(dir, 'ok');
    await writeTfjsCnn(spec, cnnWeights(spec, 3), folder);
    const c = await TfjsClassifier.create({ model: folder, backends: ['cpu'] });
    const live = TfjsClassifier.liveTensors();
    const got = [...(await c.classify(input, 4, [2, 28, 28]))].slice(0, 4);
    expect(got.every((k) => Number.isInteger(k) && k >= 0 && k < 10)).toBe(true);
    expect(TfjsClassifier.liveTensors()).toBe(live);
    c.dispose();
  });

  it('a GraphModel that returns one row fewer than its inputs: a ModelError before any row is read', async () => {
    const folder = join(dir, 'drop-row');
    // logits = flatten(x) · 0 + b, one row fewer than the inputs
    writeLinearGraphModel(folder, new Float32Array(1568 * 10), Float32Array.from({ length: 10 }, (_, i) => (i === 4 ? 1 : 0)), { dropLastRow: true });
    const c = await TfjsClassifier.create({ model: folder, backends: ['cpu'] });
    expect(c.numClasses).toBe(10);
    const live = TfjsClassifier.liveTensors();
    await expect(c.classify(input, 4, [2, 28, 28])).rejects.toThrow(/drop-row returned logits of shape \[3, 10\] for a batch of 4 inputs; expected \[4, 10\]/);
    expect(TfjsClassifier.liveTensors()).toBe(live);
    c.dispose();
  });

  it('another width than at load time: a ModelError (a model whose predict changes its output width)', async () => {
    const spec = smallCnn(2);
    const folder = join(dir, 'width');
    await writeTfjsCnn(spec, cnnWeights(spec, 3), folder);
    const c = await TfjsClassifier.create({ model: folder, backends: ['cpu'] });
    // LayersModels cannot express a data-dependent width; widen the real model's output by one column.
    const model = (c as unknown as { model: LayersModel }).model;
    const predict = model.predict.bind(model);
    model.predict = ((x: tf.Tensor) => tf.concat([predict(x) as tf.Tensor, tf.zeros([x.shape[0]!, 1])], 1)) as typeof model.predict;
    await expect(c.classify(input, 4, [2, 28, 28])).rejects.toThrow(ModelError);
    await expect(c.classify(input, 4, [2, 28, 28])).rejects.toThrow(/of shape \[4, 11\] for a batch of 4 inputs; expected \[4, 10\]/);
    c.dispose();
  });

  it('a model given as bytes is refused with a short message (tfjs models are folders)', async () => {
    await expect(TfjsClassifier.create({ model: new Uint8Array(1e6) as unknown as string, backends: ['cpu'] })).rejects.toThrow(/^model: must be the path of a model folder or model.json, got a Uint8Array \(1000000 bytes\)/);
  });
});
