import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledMnistFolder, decodePng, encodePng, loadMnist, readIdx } from '@ablate/datasets';
import { decodePngBytes, idxDatasetFromBytes, imageFromImageData, parseIdx } from '@ablate/datasets/browser';

const folder = bundledMnistFolder();
const EXAMPLES = join(__dirname, '../../../reproduction/results/table2-k45-examples');

describe('@ablate/datasets/browser', () => {
  it('parseIdx on bytes reads what the Node reader reads; the dataset equals loadMnist', () => {
    const bytes = new Uint8Array(readFileSync(join(folder, 't10k-images-idx3-ubyte')));
    const a = parseIdx(bytes, 'mnist', 3);
    const b = readIdx(join(folder, 't10k-images-idx3-ubyte'), 3);
    expect(a.dims).toEqual([10000, 28, 28]);
    expect(a.dims).toEqual(b.dims);
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    const ds = idxDatasetFromBytes('mnist/test', bytes, new Uint8Array(readFileSync(join(folder, 't10k-labels-idx1-ubyte'))));
    const ref = loadMnist('test');
    expect(ds.size).toBe(10000);
    for (const i of [0, 1, 9999]) expect(ds.get(i)).toEqual(ref.get(i));
  });

  it('typed errors for a wrong magic, a labels file as images, truncation and mismatched counts', () => {
    expect(() => parseIdx(new Uint8Array([1, 2, 3, 4, 5]), 'x')).toThrow(/x: wrong magic number 0x01020304/);
    const labels = new Uint8Array(readFileSync(join(folder, 't10k-labels-idx1-ubyte')));
    expect(() => parseIdx(labels, 'l', 3)).toThrow(/l: has 1 dimensions, expected 3/);
    expect(() => parseIdx(labels.subarray(0, 100), 'l', 1)).toThrow(/truncated: header promises 10000 bytes/);
    const images = new Uint8Array(readFileSync(join(folder, 't10k-images-idx3-ubyte')));
    expect(() => idxDatasetFromBytes('m', images, labels.subarray(0, 8 + 10))).toThrow(/truncated|has 10000 images but/);
    try {
      parseIdx(new Uint8Array(2), 'tiny');
    } catch (e) {
      expect(e).toMatchObject({ code: 'ABLATE_DATASET' });
    }
  });

  it('decodePngBytes equals decodePng on the attack examples and on RGB images with every filter', async () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.png')).slice(0, 10);
    expect(files.length).toBe(10);
    for (const f of files) {
      const bytes = readFileSync(join(EXAMPLES, f));
      expect(await decodePngBytes(new Uint8Array(bytes), f)).toEqual(decodePng(bytes));
    }
    // a noisy RGB image: pngjs picks per-row filters (Sub, Up, Average, Paeth), all of which must be undone
    const data = new Float32Array(3 * 17 * 23).map((_, i) => ((i * 7919) % 256) / 255);
    const png = encodePng({ data, shape: [3, 17, 23] });
    const decoded = await decodePngBytes(new Uint8Array(png));
    expect(decoded.shape).toEqual([3, 17, 23]);
    expect([...decoded.data]).toEqual([...data]);
  });

  it('refuses what is not an 8-bit PNG, and corrupt data', async () => {
    await expect(decodePngBytes(new Uint8Array(40), 'a.png')).rejects.toMatchObject({ code: 'ABLATE_DATASET', message: expect.stringMatching(/not a PNG/) });
    const good = new Uint8Array(readFileSync(join(EXAMPLES, '0.png')));
    const bad = good.slice();
    for (let i = 45; i < bad.length - 20; i++) bad[i] = 0x55;
    await expect(decodePngBytes(bad, 'b.png')).rejects.toMatchObject({ code: 'ABLATE_DATASET' });
  });

  it('imageFromImageData: grey from RGBA, alpha over the background', () => {
    const rgba = new Uint8ClampedArray([255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 0, 30, 60, 90, 255]);
    expect([...imageFromImageData({ data: rgba, width: 2, height: 2 }).data]).toEqual([1, 0, 0, Math.fround(60 / 255)]);
    expect([...imageFromImageData({ data: rgba, width: 2, height: 2 }, 1, 1).data]).toEqual([1, 0, 1, Math.fround(60 / 255)]);
    expect(imageFromImageData({ data: rgba, width: 2, height: 2 }, 3).shape).toEqual([3, 2, 2]);
    expect(() => imageFromImageData({ data: rgba, width: 3, height: 2 })).toThrow(/pixels: must be RGBA/);
  });
});
