import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AblationPerturbation, createContainer, MultichannelEncoder, PerturbedBatch, Rng, type AblateConfig } from '@ablate/core';
import { loadMnist } from '@ablate/datasets';
import { OnnxClassifier } from '@ablate/backend-onnx';
import * as ort from 'onnxruntime-web';
import { WebOnnxClassifier } from '@ablate/backend-web';
import { trackSessionRelease } from '@ablate/testing';

// onnxruntime-web (wasm, in Node) against onnxruntime-node (CPU) on the shipped k = 45 model: the same base
// classifier, so for the same seed the same votes, sample by sample, and the same certificates.
const MODEL = join(__dirname, '../../../models/mnist-k45-multichannel.onnx');
let node: OnnxClassifier;
let web: WebOnnxClassifier;

beforeAll(async () => {
  node = await OnnxClassifier.create({ model: MODEL, intraOpNumThreads: 1 });
  web = await WebOnnxClassifier.create({ model: MODEL });
});
afterAll(async () => {
  await node?.dispose();
  await web?.dispose();
});

describe('@ablate/backend-web in Node', () => {
  it('a model whose input or output is not the named one: ModelError, and the session it opened is released', async () => {
    const released = await trackSessionRelease(ort.InferenceSession, async () => {
      await expect(WebOnnxClassifier.create({ model: MODEL, inputName: 'pixels' })).rejects.toMatchObject({ code: 'ABLATE_MODEL', field: 'inputName' });
      await expect(WebOnnxClassifier.create({ model: MODEL, outputName: 'probs' })).rejects.toMatchObject({ code: 'ABLATE_MODEL', field: 'outputName' });
    });
    expect(released).toEqual([true, true]);
  });

  it('reads the model’s input and output like backend-onnx', () => {
    expect(web.type).toBe('onnx-web');
    expect(web.numClasses).toBe(node.numClasses);
    expect(web.inputName).toBe(node.inputName);
    expect(web.outputName).toBe(node.outputName);
    expect(web.executionProvider).toBe('wasm');
    expect(web.numThreads).toBe(1);
  });

  it('the same class for every one of 1 600 ablated MNIST samples as onnxruntime-node', async () => {
    const mnist = loadMnist('test');
    const pert = new AblationPerturbation({ retain: 45 });
    const enc = new MultichannelEncoder();
    const per = 200;
    const batch = new PerturbedBatch([1, 28, 28], per);
    const encoded = new Float32Array(per * 2 * 784);
    const rng = new Rng(7);
    const seen = new Set<number>();
    let differing = 0;
    for (let img = 0; img < 8; img++) {
      pert.sample(mnist.get(img).image.data, [1, 28, 28], rng, batch, per);
      enc.encode(batch, per, encoded);
      const a = [...(await node.classify(encoded, per, [2, 28, 28]))].slice(0, per);
      const b = [...(await web.classify(encoded, per, [2, 28, 28]))].slice(0, per);
      differing += a.filter((c, i) => c !== b[i]).length;
      a.forEach((c) => seen.add(c));
    }
    expect(differing).toBe(0);
    expect(seen.size).toBeGreaterThan(3); // eight different digits: the comparison is not vacuous
  });

  it('a config naming "onnx-web" certifies exactly as one naming "onnx" (same seed: same votes, pLower, radius)', async () => {
    const base = {
      dataset: { type: 'mnist', split: 'test' },
      perturbation: { type: 'ablation', retain: 45 },
      encoder: { type: 'multichannel' },
      certifier: { type: 'cohen', alpha: 0.05, n0: 100, n: 1000 },
      seed: 5,
    } satisfies Omit<AblateConfig, 'classifier'>;
    const runs = [];
    for (const classifier of [
      { type: 'onnx', model: MODEL, batchSize: 550 },
      { type: 'onnx-web', model: MODEL, batchSize: 550 },
    ] satisfies AblateConfig['classifier'][]) {
      const rt = await createContainer({ ...base, classifier });
      const certs = [];
      for (const i of [0, 8]) certs.push(await rt.smoothed.certify(rt.dataset!.get(i).image, { index: i }));
      await rt.dispose();
      runs.push(certs);
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[0]![0]!.radius).toBeGreaterThan(0);
    expect(runs[0]!.some((c) => c.nA < 1000)).toBe(true); // not every vote unanimous: counts are compared, not just 1000 = 1000
  });

  it('takes the model as bytes, ArrayBuffer or file: URL', async () => {
    const bytes = readFileSync(MODEL);
    for (const model of [new Uint8Array(bytes), bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), pathToFileURL(MODEL)]) {
      const c = await WebOnnxClassifier.create({ model });
      expect(c.numClasses).toBe(10);
      await c.dispose();
    }
  });

  it('refuses the wrong encoder with backend-onnx’s message', () => {
    const a = (() => { try { node.checkInputShape([1, 28, 28]); } catch (e) { return e as Error; } })();
    const b = (() => { try { web.checkInputShape([1, 28, 28]); } catch (e) { return e as Error; } })();
    expect(a?.message).toMatch(/multichannel/);
    expect(b?.message.replace(/^.*? takes/, '')).toBe(a?.message.replace(/^.*? takes/, ''));
  });

  it('typed errors for a missing file, a folder, empty bytes, a bad provider, a non-model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ablate-web-'));
    await expect(WebOnnxClassifier.create({ model: join(dir, 'nope.onnx') })).rejects.toMatchObject({ code: 'ABLATE_MODEL', field: 'model', message: expect.stringMatching(/file not found/) });
    await expect(WebOnnxClassifier.create({ model: dir })).rejects.toMatchObject({ code: 'ABLATE_MODEL', message: expect.stringMatching(/not a regular file/) });
    await expect(WebOnnxClassifier.create({ model: new Uint8Array(0) })).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'model' });
    await expect(WebOnnxClassifier.create({ model: MODEL, executionProviders: ['cuda' as never] })).rejects.toMatchObject({ field: 'executionProviders' });
    await expect(WebOnnxClassifier.create({ model: new Uint8Array([1, 2, 3, 4]) })).rejects.toMatchObject({ code: 'ABLATE_MODEL', field: 'model' });
  });

  it('a FIFO or a link to /dev/zero named *.onnx is refused at once (Node), never waited on', { timeout: 15_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ablate-web-'));
    const fifo = join(dir, 'model.onnx');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    symlinkSync('/dev/zero', join(dir, 'zero.onnx'));
    // the old reader's open waited for a writer: after 3 s a writer opens and closes the FIFO, so that the test
    // ends either way, and says whether that was needed
    let writerNeeded = false;
    const timer = setTimeout(() => {
      writerNeeded = true;
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader waiting
      }
    }, 3000);
    const notRegular = (file: string) => ({ code: 'ABLATE_MODEL', field: 'model', message: `model: cannot read ${file} (not a regular file) (check the path; relative paths resolve against the config file)` });
    await expect(WebOnnxClassifier.create({ model: fifo })).rejects.toMatchObject(notRegular(fifo));
    clearTimeout(timer);
    expect(writerNeeded).toBe(false);
    await expect(WebOnnxClassifier.create({ model: join(dir, 'zero.onnx') })).rejects.toMatchObject(notRegular(join(dir, 'zero.onnx')));
  });

  it('dispose while a classify call waits for its run: that call rejects with ABLATE_BACKEND', async () => {
    const c = await WebOnnxClassifier.create({ model: MODEL });
    const pending = c.classify(new Float32Array(2 * 784), 1, [2, 28, 28]);
    await c.dispose();
    await expect(pending).rejects.toMatchObject({ code: 'ABLATE_BACKEND', message: 'classify: the onnxruntime-web session was disposed' });
  });

  it('dispose releases the session once; classify after dispose is an ABLATE_BACKEND error naming onnxruntime-web', async () => {
    const c = await WebOnnxClassifier.create({ model: MODEL });
    await c.dispose();
    await c.dispose();
    await expect(c.classify(new Float32Array(2 * 784), 1, [2, 28, 28])).rejects.toMatchObject({ code: 'ABLATE_BACKEND', message: 'classify: the onnxruntime-web session was disposed' });
  });

  it('WebGPU unavailable (Node): falls back to wasm with one warning, or fails when strict', async () => {
    const warnings: string[] = [];
    for (let i = 0; i < 2; i++) {
      const c = await WebOnnxClassifier.create({ model: MODEL, executionProviders: ['webgpu', 'wasm'], warn: (m) => warnings.push(m) });
      expect(c.executionProvider).toBe('wasm');
      await c.dispose();
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^@ablate\/backend-web: webgpu \(.*\) is not available; running on wasm/);
    await expect(WebOnnxClassifier.create({ model: MODEL, executionProviders: ['webgpu', 'wasm'], strict: true })).rejects.toMatchObject({ code: 'ABLATE_BACKEND', field: 'executionProviders' });
  });
});
