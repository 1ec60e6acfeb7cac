import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AblationPerturbation, CohenCertifier, MultichannelEncoder, ModelError, SmoothedClassifier } from '@ablate/core';
import { cnnWeights, smallCnn, writeTfjsCnn } from '@ablate/testing';
import { selectBackend, TfjsClassifier } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ablate-tfjs-'));

/** A hand-written tfjs GraphModel: logits = reshape(x, [-1, 1568]) · W + b, on NHWC input [N, 28, 28, 2]. */
function writeGraphModel(folder: string, W: Float32Array, b: Float32Array): void {
  mkdirSync(folder, { recursive: true });
  const f32 = (name: string, dims: number[]) => ({ name, op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: dims.map((d) => ({ size: String(d) })) } } } } });
  const nodes = [
    { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '28' }, { size: '28' }, { size: '2' }] } } } },
    f32('W', [1568, 10]),
    f32('b', [10]),
    { name: 'shape', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [{ size: '2' }] } } } } },
    { name: 'flat', op: 'Reshape', input: ['x', 'shape'], attr: { T: { type: 'DT_FLOAT' }, Tshape: { type: 'DT_INT32' } } },
    { name: 'mm', op: 'MatMul', input: ['flat', 'W'], attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } } },
    { name: 'logits', op: 'BiasAdd', input: ['mm', 'b'], attr: { T: { type: 'DT_FLOAT' }, data_format: { s: Buffer.from('NHWC').toString('base64') } } },
  ];
  const shape = new Int32Array([-1, 1568]);
  const bin = Buffer.concat([Buffer.from(W.buffer), Buffer.from(b.buffer), Buffer.from(shape.buffer)]);
  writeFileSync(join(folder, 'group1-shard1of1.bin'), bin);
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
          ],
        },
      ],
    }),
  );
}

describe('TfjsClassifier', () => {
  it('chooses the first backend that loads and reports it (tfjs-node-gpu is absent here)', async () => {
    const { backend, skipped } = await selectBackend(['tensorflow', 'wasm', 'cpu']);
    expect(['tensorflow', 'wasm']).toContain(backend);
    if (backend === 'wasm') expect(skipped[0]).toMatch(/^tensorflow/);
    expect((await selectBackend(['cpu'])).backend).toBe('cpu');
  });

  it('loads a LayersModel folder; NCHW batches are transposed to the model’s NHWC', async () => {
    const spec = smallCnn(2);
    await writeTfjsCnn(spec, cnnWeights(spec, 2), join(dir, 'layers'));
    const c = await TfjsClassifier.create({ model: join(dir, 'layers'), backends: ['cpu'] });
    expect(c.backend).toBe('cpu');
    expect(c.numClasses).toBe(10);
    c.checkInputShape([2, 28, 28]);
    expect(() => c.checkInputShape([1, 28, 28])).toThrow(ModelError);
    c.dispose();
  });

  it('loads a GraphModel and computes the right function', async () => {
    const W = Float32Array.from({ length: 15680 }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: 10 }, (_, i) => i / 100);
    writeGraphModel(join(dir, 'graph'), W, b);
    const c = await TfjsClassifier.create({ model: join(dir, 'graph'), backends: ['wasm', 'cpu'] });
    expect(c.numClasses).toBe(10);
    // one NCHW input [1, 2, 28, 28]; the graph sees it as NHWC and flattens (h, w, c)
    const x = Float32Array.from({ length: 1568 }, (_, i) => ((i * 31) % 17) / 17);
    const want = (() => {
      const logits = Array.from(b);
      for (let h = 0; h < 28; h++)
        for (let w = 0; w < 28; w++)
          for (let ch = 0; ch < 2; ch++) {
            const v = x[ch * 784 + h * 28 + w]!;
            const row = (h * 28 + w) * 2 + ch;
            for (let j = 0; j < 10; j++) logits[j]! += v * W[row * 10 + j]!;
          }
      return logits.indexOf(Math.max(...logits));
    })();
    expect((await c.classify(x, 1, [2, 28, 28]))[0]).toBe(want);
    c.dispose();
  });

  it('memory stays flat over a long run (every tensor disposed)', async () => {
    const spec = smallCnn(2);
    await writeTfjsCnn(spec, cnnWeights(spec, 3), join(dir, 'mem'));
    const c = await TfjsClassifier.create({ model: join(dir, 'mem'), backends: ['wasm'] });
    const s = new SmoothedClassifier(new AblationPerturbation({ retain: 45 }), new MultichannelEncoder(), c, new CohenCertifier({ alpha: 0.05, n0: 50, n: 500 }), { batchSize: 100 });
    const image = { data: new Float32Array(784).fill(0.3), shape: [1, 28, 28] as const };
    await s.certify(image);
    const before = TfjsClassifier.liveTensors();
    for (let i = 0; i < 10; i++) await s.certify(image, { index: i });
    expect(TfjsClassifier.liveTensors()).toBe(before);
    c.dispose();
  });

  it('a missing model folder names the file', async () => {
    await expect(TfjsClassifier.create({ model: join(dir, 'absent'), backends: ['cpu'] })).rejects.toThrow(/absent\/model.json \(file not found\)/);
  });
});
