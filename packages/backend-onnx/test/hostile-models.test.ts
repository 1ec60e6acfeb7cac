import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, createContainer, ModelError } from '@ablate/core';
import { writeHostileOnnx, type HostileOnnxSpec } from '@ablate/testing';
import { OnnxClassifier } from '../src/index.js';

/** These tests pass configs the typed AblateConfig would reject at compile time (they test run-time validation). */
const createLoose = createContainer as (config: unknown, options?: Parameters<typeof createContainer>[1]) => ReturnType<typeof createContainer>;

// Broken models (written with @ablate/testing) run through the real ONNX Runtime backend: none may produce a vote.
const shape = [1, 28, 28] as const;
const half = new Float32Array(6 * 784).fill(0.5);
const zeros = new Float32Array(6 * 784);

async function classify(spec: HostileOnnxSpec, input = half, count = 6) {
  const c = await OnnxClassifier.create({ model: writeHostileOnnx(spec) });
  try {
    return [...(await c.classify(input, count, shape))].slice(0, count);
  } finally {
    await c.dispose();
  }
}

describe('the ONNX backend refuses broken model outputs on every call', () => {
  it('a well-formed model of the same family classifies (the control)', async () => {
    expect(await classify({ inputShape: [1, 28, 28], classes: 3, bias: [0, 1, 0] })).toEqual([1, 1, 1, 1, 1, 1]);
    // a single +Infinity is the argmax; −Infinity entries are fine
    expect(await classify({ inputShape: [1, 28, 28], classes: 3, bias: [-Infinity, Infinity, 0] })).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('NaN logits: a ModelError naming the model and the row count', async () => {
    await expect(classify({ inputShape: [1, 28, 28], classes: 3, bias: [0, NaN, 0] })).rejects.toThrow(
      /model: <model bytes \(\d+ bytes\)> returned logits without a valid argmax in 6 of 6 rows of a batch \(first: row 0 = \[0, NaN, 0\]\)/,
    );
    // a tie of +Infinity, and a row of −Infinity only, have no argmax either
    await expect(classify({ inputShape: [1, 28, 28], classes: 3, bias: [Infinity, 0, Infinity] })).rejects.toBeInstanceOf(ModelError);
    await expect(classify({ inputShape: [1, 28, 28], classes: 3, bias: [-Infinity, -Infinity, -Infinity] })).rejects.toThrow(/6 of 6 rows/);
  });

  it('only the rows that overflow are counted: +Infinity · mean(x) is NaN at x = 0 and +Infinity elsewhere', async () => {
    // logits [0, Infinity·mean(x)]: rows with mean 0 give NaN (0·∞), others a single +Infinity
    const input = new Float32Array(6 * 784).fill(0.5);
    input.fill(0, 2 * 784, 4 * 784); // rows 2 and 3 are blank
    await expect(classify({ inputShape: [1, 28, 28], classes: 2, slope: [0, Infinity] }, input)).rejects.toThrow(/in 2 of 6 rows of a batch \(first: row 2 = \[/);
  });

  it('fewer rows than inputs: a ModelError before any row is read', async () => {
    await expect(classify({ inputShape: [1, 28, 28], classes: 3, tail: 'drop-last-row' })).rejects.toThrow(/returned output "logits" of shape \[5, 3\] for a batch of 6 inputs; expected \[6, 3\]/);
  });

  it('another width than the declared class count: a ModelError at run time (shape inference could not know)', async () => {
    const spec: HostileOnnxSpec = { inputShape: [1, 28, 28], classes: 5, declaredClasses: 3, tail: 'input-dependent-width', bias: [0, 1, 2, 3, 4] };
    expect(await classify(spec, zeros)).toEqual([2, 2, 2, 2, 2, 2]); // width 3 + ceil(0) = 3: as declared
    await expect(classify(spec)).rejects.toThrow(/of shape \[6, 4\] for a batch of 6 inputs; expected \[6, 3\]/);
  });

  it('through the engine: certify rejects with a ModelError and returns no certificate', async () => {
    const rt = await createLoose({
      perturbation: { type: 'ablation', retain: 45 },
      encoder: { type: 'identity' },
      classifier: { type: 'onnx', model: writeHostileOnnx({ inputShape: [1, 28, 28], classes: 10, bias: [0, 0, 0, NaN, 0, 0, 0, 0, 0, 0] }) },
      certifier: { type: 'cohen', alpha: 0.05, n0: 100, n: 1000 },
    });
    const err = await rt.smoothed.certify({ data: new Float32Array(784).fill(0.3), shape }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/in 100 of 100 rows/);
    await rt.dispose();
  });
});

describe('models passed as bytes from code', () => {
  const file = resolve(__dirname, '../../../models/mnist-k45-multichannel.onnx');

  it('a Buffer or Uint8Array of a real model certifies like the path does', async () => {
    const buffer = readFileSync(file);
    const config = (model: unknown) => ({
      perturbation: { type: 'ablation', retain: 45 },
      encoder: { type: 'multichannel' },
      classifier: { type: 'onnx', model },
      certifier: { type: 'cohen', alpha: 0.05, n0: 50, n: 300 },
    });
    const x = { data: Float32Array.from({ length: 784 }, (_, i) => ((i * 37) % 101) / 100), shape };
    const results = [];
    for (const model of [file, buffer, new Uint8Array(buffer)]) {
      const t = Date.now();
      const rt = await createLoose(config(model));
      expect(Date.now() - t).toBeLessThan(20_000);
      results.push(await rt.smoothed.certify(x));
      await rt.dispose();
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });

  it('a wrong value is a short ConfigError, not an echo of it', async () => {
    const err = await createLoose({
      perturbation: { type: 'ablation', retain: 45 },
      encoder: { type: 'multichannel' },
      classifier: { type: 'onnx', model: new Float32Array(4_000_000) },
      certifier: { type: 'cohen', alpha: 0.05, n0: 50, n: 300 },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe('invalid config:\n  /classifier/model: must be a string or bytes (Uint8Array), got a Float32Array (16000000 bytes)');
    await expect(OnnxClassifier.create({ model: new Uint8Array(0) })).rejects.toThrow(/model: the model bytes are empty/);
  });
});
