import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { ModelError } from '@ablate/core';
import { cnnWeights, smallCnn, writeTfjsCnn } from '@ablate/testing';
import { TfjsClassifier } from '../src/index.js';

// Broken models through the real tfjs backend: none may produce a vote.
const dir = mkdtempSync(join(tmpdir(), 'ablate-tfjs-hostile-'));
const input = Float32Array.from({ length: 4 * 2 * 784 }, (_, i) => ((i * 37) % 101) / 100);

/**
 * A GraphModel logits = flatten(x) · 0 + b, cut by a StridedSlice to rows [0, N − 1): it loads (one probe row
 * gives [0, 10]: 10 classes) but returns one row fewer than it is given.
 */
function writeRowDroppingGraphModel(folder: string): void {
  mkdirSync(folder, { recursive: true });
  const f32 = (name: string, dims: number[]) => ({ name, op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: dims.map((d) => ({ size: String(d) })) } } } } });
  const i32 = (name: string, n: number) => ({ name, op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [{ size: String(n) }] } } } } });
  const T = { T: { type: 'DT_FLOAT' } };
  const nodes = [
    { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '28' }, { size: '28' }, { size: '2' }] } } } },
    f32('W', [1568, 10]),
    f32('b', [10]),
    i32('shape', 2),
    i32('begin', 2),
    i32('end', 2),
    i32('strides', 2),
    { name: 'flat', op: 'Reshape', input: ['x', 'shape'], attr: { ...T, Tshape: { type: 'DT_INT32' } } },
    { name: 'mm', op: 'MatMul', input: ['flat', 'W'], attr: { ...T, transpose_a: { b: false }, transpose_b: { b: false } } },
    { name: 'all', op: 'BiasAdd', input: ['mm', 'b'], attr: { ...T, data_format: { s: Buffer.from('NHWC').toString('base64') } } },
    {
      name: 'logits',
      op: 'StridedSlice',
      input: ['all', 'begin', 'end', 'strides'],
      attr: { ...T, Index: { type: 'DT_INT32' }, begin_mask: { i: '0' }, end_mask: { i: '2' }, ellipsis_mask: { i: '0' }, new_axis_mask: { i: '0' }, shrink_axis_mask: { i: '0' } },
    },
  ];
  const W = new Float32Array(1568 * 10);
  const b = Float32Array.from({ length: 10 }, (_, i) => (i === 4 ? 1 : 0));
  const ints = new Int32Array([-1, 1568, 0, 0, -1, 0, 1, 1]);
  writeFileSync(join(folder, 'group1-shard1of1.bin'), Buffer.concat([Buffer.from(W.buffer), Buffer.from(b.buffer), Buffer.from(ints.buffer)]));
  writeFileSync(
    join(folder, 'model.json'),
    JSON.stringify({
      format: 'graph-model',
      generatedBy: 'hand',
      convertedBy: 'ablate tests',
      modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
      weightsManifest: [
        {
          paths: ['group1-shard1of1.bin'],
          weights: [
            { name: 'W', shape: [1568, 10], dtype: 'float32' },
            { name: 'b', shape: [10], dtype: 'float32' },
            { name: 'shape', shape: [2], dtype: 'int32' },
            { name: 'begin', shape: [2], dtype: 'int32' },
            { name: 'end', shape: [2], dtype: 'int32' },
            { name: 'strides', shape: [2], dtype: 'int32' },
          ],
        },
      ],
    }),
  );
}

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
    writeRowDroppingGraphModel(folder);
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
