import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AblateError, ConfigError, createContainer, definePlugin, ModelError } from '@ablate/core';
import { cnnWeights, smallCnn, trackSessionRelease, writeOnnxCnn } from '@ablate/testing';
import * as ort from 'onnxruntime-node';
import { availableExecutionProviders, OnnxClassifier } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ablate-onnx-'));
const model2 = join(dir, 'two-channel.onnx');
writeFileSync(model2, writeOnnxCnn(smallCnn(2), cnnWeights(smallCnn(2), 1)));
const model1 = join(dir, 'one-channel.onnx');
writeFileSync(model1, writeOnnxCnn(smallCnn(1), cnnWeights(smallCnn(1), 1)));

describe('OnnxClassifier', () => {
  it('reads names, classes and shapes from the model', async () => {
    const c = await OnnxClassifier.create({ model: model2, batchSize: 64 });
    expect(c.inputName).toBe('input');
    expect(c.outputName).toBe('logits');
    expect(c.numClasses).toBe(10);
    expect(c.preferredBatchSize).toBe(64);
    expect(c.executionProvider).toBe('cpu');
    c.checkInputShape([2, 28, 28]);
    await c.dispose();
  });

  it('argmax matches the raw logits of a direct InferenceSession run', async () => {
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(model2);
    const input = Float32Array.from({ length: 7 * 2 * 784 }, (_, i) => ((i * 7919) % 1000) / 1000);
    const raw = (await session.run({ input: new ort.Tensor('float32', input, [7, 2, 28, 28]) })).logits!.data as Float32Array;
    const c = await OnnxClassifier.create({ model: model2 });
    const got = [...(await c.classify(input, 7, [2, 28, 28]))].slice(0, 7);
    const want = Array.from({ length: 7 }, (_, r) => {
      const row = [...raw.subarray(r * 10, r * 10 + 10)];
      return row.indexOf(Math.max(...row));
    });
    expect(got).toEqual(want);
    await c.dispose();
    await session.release();
  });

  it('a [N,1,28,28] model behind the multichannel encoder is a clear start-up error', async () => {
    const c = await OnnxClassifier.create({ model: model1 });
    expect(() => c.checkInputShape([2, 28, 28])).toThrow(ModelError);
    expect(() => c.checkInputShape([2, 28, 28])).toThrow(/takes input "input" of shape \[N, 1, 28, 28\].*\[N, 2, 28, 28\].*use "encoder": \{"type": "mean"\} or "identity"/);
    await c.dispose();
    // through a config with a dataset: fails in createContainer, before any work
    const tiny = definePlugin<'dataset', Record<string, never>>({
      kind: 'dataset',
      type: 'tiny',
      description: 'one blank 28×28 image',
      schema: {},
      create: () => ({ name: 'tiny', size: 1, shape: [1, 28, 28], numClasses: 10, get: () => ({ image: { data: new Float32Array(784), shape: [1, 28, 28] }, label: 0 }) }),
    });
    await expect(
      createContainer({
        dataset: { type: 'tiny' } as never, // a test-local plug-in type, not declared in DatasetOptionsMap
        perturbation: { type: 'ablation', retain: 45 },
        encoder: { type: 'multichannel' },
        classifier: { type: 'onnx', model: model1 },
        certifier: { type: 'cohen' },
      }, { plugins: [tiny] }),
    ).rejects.toBeInstanceOf(ModelError);
  });

  it('missing and corrupt model files name the file', async () => {
    await expect(OnnxClassifier.create({ model: join(dir, 'nope.onnx') })).rejects.toThrow(/nope.onnx \(file not found\)/);
    const junk = join(dir, 'junk.onnx');
    writeFileSync(junk, 'not a model');
    await expect(OnnxClassifier.create({ model: junk })).rejects.toThrow(ModelError);
  });

  it('CUDA unavailable: warns once and falls back to CPU; strict fails', async () => {
    const hasCuda = availableExecutionProviders().some((p) => p.name === 'cuda' && p.bundled);
    if (hasCuda) return; // on a CUDA machine this path is exercised by the GPU benchmark instead
    const warnings: string[] = [];
    const c = await OnnxClassifier.create({ model: model2, executionProviders: ['cuda', 'cpu'], warn: (m) => warnings.push(m) });
    expect(c.executionProvider).toBe('cpu');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cuda .* not available; running on cpu/);
    // it points at what an installed app has (the package's own README, which has that section), not the repo's docs/
    expect(warnings[0]).toContain(`see "Enabling CUDA" in @ablate/backend-onnx's README (node_modules/@ablate/backend-onnx/README.md); to silence this, list only ['cpu'] in executionProviders.`);
    expect(readFileSync(join(__dirname, '../README.md'), 'utf8')).toMatch(/^## Enabling CUDA$/m);
    await c.dispose();
    // once per process: a second session with the same fallback stays quiet
    const again = await OnnxClassifier.create({ model: model2, executionProviders: ['cuda', 'cpu'], warn: (m) => warnings.push(m) });
    expect(again.executionProvider).toBe('cpu');
    expect(warnings).toHaveLength(1);
    await again.dispose();
    const err = await OnnxClassifier.create({ model: model2, executionProviders: ['cuda', 'cpu'], strict: true }).catch((e) => e);
    expect(err).toBeInstanceOf(AblateError);
    expect(err.field).toBe('executionProviders');
  });

  it('config errors for the onnx slot name the field', async () => {
    // deliberately wrong configs: typed as they come from JSON
    const cfg = (classifier: object): any => ({ perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, classifier, certifier: { type: 'cohen' } });
    await expect(createContainer(cfg({ type: 'onnx' }))).rejects.toMatchObject({ issues: [{ path: '/classifier/model' }] });
    await expect(createContainer(cfg({ type: 'onnx', model: model2, executionProviders: ['gpu'] }))).rejects.toBeInstanceOf(ConfigError);
    await expect(createContainer(cfg({ type: 'onnx', model: model2, batchSize: 0 }))).rejects.toMatchObject({ issues: [{ path: '/classifier/batchSize' }] });
  });

  it('execution providers of other platforms: the schema accepts them, createContainer refuses one this platform lacks at /classifier/executionProviders', async () => {
    const here = availableExecutionProviders().map((p) => p.name);
    const { validateConfig, registry } = await import('@ablate/core');
    const cfg = (executionProviders: string[]): any => ({ perturbation: { type: 'ablation', retain: 45 }, encoder: { type: 'multichannel' }, classifier: { type: 'onnx', model: model2, executionProviders }, certifier: { type: 'cohen' } });
    // the schema (what an editor and validateConfig check) accepts every name onnxruntime-node has somewhere
    for (const p of ['cuda', 'tensorrt', 'dml', 'coreml', 'webgpu', 'cpu']) expect(() => validateConfig(cfg([p, 'cpu']), registry), p).not.toThrow();
    expect(() => validateConfig(cfg(['directml']), registry)).toThrow(ConfigError);
    // one this platform's build does not have is refused (ONNX Runtime alone would drop it silently and run on cpu)
    const missing = ['dml', 'coreml', 'webgpu', 'cuda'].find((p) => !here.includes(p))!;
    expect(missing).toBeDefined();
    const err = await createContainer(cfg([missing, 'cpu'])).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.issues[0].path).toBe('/classifier/executionProviders');
    expect(err.message).toContain(`"${missing}"`);
    expect(err.message).toContain(`${process.platform}/${process.arch}`);
    expect(err.message).toContain(`which has ${here.join(', ')}`);
    const direct = await OnnxClassifier.create({ model: model2, executionProviders: [missing as 'dml', 'cpu'] }).catch((e) => e);
    expect(direct).toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'executionProviders' });
  });

  it('a model whose input or output is not the named one: ModelError, and the session it opened is released', async () => {
    const released = await trackSessionRelease(ort.InferenceSession, async () => {
      await expect(OnnxClassifier.create({ model: model2, inputName: 'pixels' })).rejects.toMatchObject({ code: 'ABLATE_MODEL', field: 'inputName' });
      await expect(OnnxClassifier.create({ model: model2, outputName: 'probs' })).rejects.toMatchObject({ code: 'ABLATE_MODEL', field: 'outputName' });
    });
    expect(released).toEqual([true, true]);
  });

  it('dispose releases the session; classify after dispose is a clear error', async () => {
    const c = await OnnxClassifier.create({ model: model2 });
    await c.dispose();
    await c.dispose(); // idempotent: the session is released once
    await expect(c.classify(new Float32Array(2 * 784), 1, [2, 28, 28])).rejects.toMatchObject({ code: 'ABLATE_BACKEND', message: 'classify: the ONNX session was disposed' });
  });

  it('dispose while a classify call waits for its run: that call rejects with ABLATE_BACKEND, not onnxruntime-node\'s raw "Session already disposed."', async () => {
    const c = await OnnxClassifier.create({ model: model2 });
    const pending = c.classify(new Float32Array(2 * 784), 1, [2, 28, 28]); // onnxruntime-node runs it on a later tick
    await c.dispose();
    await expect(pending).rejects.toMatchObject({ code: 'ABLATE_BACKEND', message: 'classify: the ONNX session was disposed' });
  });

  it('a direct classify call whose batch does not fit its input: a typed error, not onnxruntime-node\'s raw one', async () => {
    const c = await OnnxClassifier.create({ model: model2 });
    // was: Error "Tensor's size(4704) does not match data length(1568)." and "Got invalid dimensions for input"
    await expect(c.classify(new Float32Array(2 * 784), 3, [2, 28, 28])).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'count', message: 'count: must be an integer in [0, 1] (the rows of `input` of shape [2, 28, 28]), got 3' });
    await expect(c.classify(new Float32Array(2 * 784), 1, [1, 28, 56])).rejects.toMatchObject({ code: 'ABLATE_MODEL', message: expect.stringMatching(/takes input "input" of shape \[N, 2, 28, 28\], but the encoder produces \[N, 1, 28, 56\]/) });
    expect((await c.classify(new Float32Array(2 * 784), 1, [2, 28, 28])).length).toBeGreaterThanOrEqual(1);
    await c.dispose();
  });

  it('two classify calls at once on one instance (Promise.all): each gets the predictions of its own rows', async () => {
    const input = Float32Array.from({ length: 6 * 2 * 784 }, (_, i) => ((i * 7919) % 1000) / 1000);
    const c = await OnnxClassifier.create({ model: model2 });
    const alone = [[...(await c.classify(input, 6, [2, 28, 28]))].slice(0, 6), [...(await c.classify(input.subarray(2 * 784), 3, [2, 28, 28]))].slice(0, 3)];
    expect(alone[1]).toEqual(alone[0]!.slice(1, 4)); // row r of the second call is row r + 1 of the first
    const [a, b] = await Promise.all([c.classify(input, 6, [2, 28, 28]), c.classify(input.subarray(2 * 784), 3, [2, 28, 28])]);
    expect(a).not.toBe(b);
    expect([[...a].slice(0, 6), [...b].slice(0, 3)]).toEqual(alone);
    await c.dispose();
  });
});
