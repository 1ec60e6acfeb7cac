import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { DatasetError, loadImageFolder, MAX_IMAGE_PIXELS, readPngSize } from '../src/index.js';
import { MAX_GUNZIPPED_BYTES, readDataFile } from '../src/read-file.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'ablate-png-'));

/** A real small PNG (pngjs). */
const png = (w: number, h: number) => {
  const p = new PNG({ width: w, height: h });
  p.data.fill(128);
  return PNG.sync.write(p);
};

/**
 * A decompression bomb made by hand: a valid signature and IHDR declaring w × h RGBA pixels, then one IDAT
 * whose zlib stream inflates a few rows of zeros (the file is tiny; decoding it would allocate w·h·4 bytes).
 */
function bomb(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    return Buffer.concat([len, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)]); // CRC left 0: never read
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(4 * (4 * w + 1)))), chunk('IEND', Buffer.alloc(0))]);
}

describe('image folders: PNG headers are checked before any decoding', () => {
  it('reads width and height from the IHDR chunk', () => {
    const root = tmp();
    writeFileSync(join(root, 'a.png'), png(7, 5));
    writeFileSync(join(root, 'b.png'), bomb(20000, 20000));
    expect(readPngSize(join(root, 'a.png'))).toEqual({ width: 7, height: 5 });
    expect(readPngSize(join(root, 'b.png'))).toEqual({ width: 20000, height: 20000 });
  });

  it('a 20000×20000 PNG of a few KB is refused at once, with no memory spent on it', () => {
    const root = tmp();
    mkdirSync(join(root, 'cat'));
    const file = bomb(20000, 20000);
    expect(file.length).toBeLessThan(200_000);
    writeFileSync(join(root, 'cat', 'bomb.png'), file);
    const before = process.memoryUsage().arrayBuffers;
    expect(() => loadImageFolder(root)).toThrow(DatasetError);
    expect(() => loadImageFolder(root)).toThrow(/bomb\.png: declares 20000×20000 pixels, more than the 16777216 \(4096×4096\) an image may have/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 ** 2);
  });

  it('the limit is 2²⁴ pixels: 4096×4096 is the largest square accepted by the header check', () => {
    expect(MAX_IMAGE_PIXELS).toBe(4096 * 4096);
    const root = tmp();
    mkdirSync(join(root, 'a'));
    writeFileSync(join(root, 'a', 'x.png'), bomb(4097, 4096));
    expect(() => loadImageFolder(root)).toThrow(/declares 4097×4096 pixels/);
  });

  it('an image of another size than the first is refused before any image is decoded', () => {
    const root = tmp();
    mkdirSync(join(root, 'a'));
    mkdirSync(join(root, 'b'));
    // the first file has a valid header but a corrupt body: if decoding ran first, it would be the one named
    const broken = png(4, 3);
    writeFileSync(join(root, 'a', '1.png'), Buffer.concat([broken.subarray(0, 40), Buffer.alloc(30)]));
    writeFileSync(join(root, 'b', '2.png'), bomb(4000, 4000));
    expect(() => loadImageFolder(root)).toThrow(/2\.png: is 4000×4000, but the first image is 4×3/);
  });

  it('broken links and files that are not PNGs name the entry', () => {
    const root = tmp();
    mkdirSync(join(root, 'a'));
    writeFileSync(join(root, 'a', 'ok.png'), png(2, 2));
    symlinkSync(join(root, 'nowhere'), join(root, 'b'));
    expect(() => loadImageFolder(root)).toThrow(/b: is a broken symbolic link/);
    const other = tmp();
    mkdirSync(join(other, 'a'));
    symlinkSync(join(other, 'missing.png'), join(other, 'a', 'x.png'));
    expect(() => loadImageFolder(other)).toThrow(/x\.png: is a broken symbolic link/);
    const third = tmp();
    mkdirSync(join(third, 'a'));
    writeFileSync(join(third, 'a', 'x2.png'), 'GIF89a not a png at all');
    expect(() => loadImageFolder(third)).toThrow(/x2\.png: is not a readable PNG/);
  });

  it('a well-formed folder still loads', () => {
    const root = tmp();
    mkdirSync(join(root, 'a'));
    mkdirSync(join(root, 'b'));
    writeFileSync(join(root, 'a', '1.png'), png(4, 3));
    writeFileSync(join(root, 'b', '2.png'), png(4, 3));
    // pngjs writes RGBA files: 3 channels by their colour type (no image is decoded to choose), 1 on request
    const ds = loadImageFolder(root);
    expect(ds.shape).toEqual([3, 3, 4]);
    expect(ds.size).toBe(2);
    expect(ds.get(1).label).toBe(1);
    const grey = loadImageFolder(root, { channels: 1 });
    expect(grey.shape).toEqual([1, 3, 4]);
    expect(grey.get(0).image.data[0]).toBe(Math.fround(128 / 255));
  });
});

describe('gzipped data files', () => {
  it('stop decompressing at the limit with a DatasetError naming the file', () => {
    const file = join(tmp(), 'images-idx3-ubyte.gz');
    writeFileSync(file, gzipSync(Buffer.alloc(10_000_000)));
    expect(readDataFile(file).length).toBe(10_000_000);
    expect(() => readDataFile(file, 1_000_000)).toThrow(/images-idx3-ubyte\.gz: decompresses to more than 1000000 bytes/);
    expect(MAX_GUNZIPPED_BYTES).toBe(2 ** 30);
  });
});
