import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AblationPerturbation, createContainer, MultichannelEncoder, PerturbedBatch, Rng, type AblateConfig } from '@ablate/core';
import { loadMnist } from '@ablate/datasets';
import { OnnxClassifier } from '@ablate/backend-onnx';
import { TfjsClassifier } from '@ablate/backend-tfjs';
import { cnnWeights, smallCnn, writeOnnxCnn, writeTfjsCnn } from '@ablate/testing';

// The same weights written as ONNX (onnx-proto, from TypeScript) and as a tfjs LayersModel must give the same
// classes on ablated MNIST inputs, and the same certificates for the same seed.
const dir = mkdtempSync(join(tmpdir(), 'ablate-parity-'));
const onnxPath = join(dir, 'cnn.onnx');
const tfjsPath = join(dir, 'cnn-tfjs');
let onnx: OnnxClassifier;
let tfjs: TfjsClassifier;

beforeAll(async () => {
  const spec = smallCnn(2);
  const weights = cnnWeights(spec, 11);
  writeFileSync(onnxPath, writeOnnxCnn(spec, weights));
  await writeTfjsCnn(spec, weights, tfjsPath);
  onnx = await OnnxClassifier.create({ model: onnxPath });
  tfjs = await TfjsClassifier.create({ model: tfjsPath, backends: ['wasm'] });
});

afterAll(async () => {
  await onnx?.dispose();
  tfjs?.dispose();
});

describe('ONNX ↔ tfjs parity on the same weights', () => {
  it('identical predicted classes on 1 200 ablated MNIST inputs', async () => {
    const mnist = loadMnist('test');
    const pert = new AblationPerturbation({ retain: 45 });
    const enc = new MultichannelEncoder();
    const shape = [1, 28, 28] as const;
    const per = 100;
    const batch = new PerturbedBatch(shape, per);
    const encoded = new Float32Array(per * 2 * 784);
    const rng = new Rng(0);
    let total = 0;
    const seen = new Set<number>();
    for (let img = 0; img < 12; img++) {
      pert.sample(mnist.get(img).image.data, shape, rng, batch, per);
      enc.encode(batch, per, encoded);
      const a = [...(await onnx.classify(encoded, per, [2, 28, 28]))].slice(0, per);
      const b = [...(await tfjs.classify(encoded, per, [2, 28, 28]))].slice(0, per);
      expect(b).toEqual(a);
      a.forEach((c) => seen.add(c));
      total += per;
    }
    expect(total).toBeGreaterThanOrEqual(1000);
    // the comparison is not vacuous: the random network spreads its votes over several classes
    expect(seen.size).toBeGreaterThan(2);
  });

  it('a config that names "onnx" or "tfjs" gives identical certificates for the same seed', async () => {
    const base = {
      dataset: { type: 'mnist', split: 'test' },
      perturbation: { type: 'ablation', retain: 45 },
      encoder: { type: 'multichannel' },
      certifier: { type: 'cohen', alpha: 0.05, n0: 100, n: 1000 },
      seed: 3,
    } satisfies Omit<AblateConfig, 'classifier'>;
    const runs = await Promise.all(
      ([
        { type: 'onnx', model: onnxPath, batchSize: 250 },
        { type: 'tfjs', model: tfjsPath, backends: ['wasm'], batchSize: 250 },
      ] satisfies AblateConfig['classifier'][]).map(async (classifier) => {
        const rt = await createContainer({ ...base, classifier });
        const certs = [];
        for (let i = 0; i < 3; i++) certs.push(await rt.smoothed.certify(rt.dataset!.get(i).image, { index: i }));
        await rt.dispose();
        return certs;
      }),
    );
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[0]!.some((c) => c.nA < 1000)).toBe(true);
  });
});
