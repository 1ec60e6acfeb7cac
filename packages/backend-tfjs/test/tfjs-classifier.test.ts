import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AblationPerturbation, CohenCertifier, MultichannelEncoder, ModelError, SmoothedClassifier } from '@ablate/core';
import { cnnWeights, smallCnn, writeTfjsCnn } from '@ablate/testing';
import { selectBackend, TfjsClassifier } from '../src/index.js';
import { writeLinearGraphModel } from './helpers/graph-model.js';

const dir = mkdtempSync(join(tmpdir(), 'ablate-tfjs-'));

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
    writeLinearGraphModel(join(dir, 'graph'), W, b);
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

  it('two classify calls at once on one instance (Promise.all): each gets the predictions of its own rows', async () => {
    const c = await TfjsClassifier.create({ model: join(__dirname, '../../../models/mnist-k45-multichannel-tfjs'), backends: ['cpu'] });
    const input = Float32Array.from({ length: 6 * 2 * 784 }, (_, i) => ((i * 7919) % 1000) / 1000);
    const alone = [[...(await c.classify(input, 6, [2, 28, 28]))].slice(0, 6), [...(await c.classify(input.subarray(3 * 2 * 784), 3, [2, 28, 28]))].slice(0, 3)];
    expect(alone[1]).toEqual(alone[0]!.slice(3, 6)); // row r of the second call is row r + 3 of the first
    const [a, b] = await Promise.all([c.classify(input, 6, [2, 28, 28]), c.classify(input.subarray(3 * 2 * 784), 3, [2, 28, 28])]);
    expect(a).not.toBe(b); // one shared buffer held the last call's predictions for both
    expect([[...a].slice(0, 6), [...b].slice(0, 3)]).toEqual(alone);
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
