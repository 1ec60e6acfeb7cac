/**
 * @ablate/datasets/browser — the browser-safe part of @ablate/datasets: no Node built-in in its module graph.
 * Parses MNIST's IDX format from a Uint8Array, builds datasets from bytes, and turns PNG bytes or an `ImageData`
 * into an ablate image. The Node loaders (files, folders, gzip) stay in the package's main entry.
 */
import { ArgumentError, MAX_BATCH_BYTES, type Image } from '@ablate/core';
import { DatasetError } from './errors.js';
import { ByteImageDataset } from './in-memory-dataset.js';

export { ByteImageDataset, channelMeans } from './in-memory-dataset.js';
export { DatasetError } from './errors.js';

/** A parsed IDX array of unsigned bytes (MNIST, Fashion-MNIST) with its dimensions. */
export interface IdxBytes {
  dims: number[];
  data: Uint8Array;
}

/** The most pixels a decoded PNG may have (4096 × 4096), checked from its header before anything is inflated. */
export const MAX_PNG_PIXELS = 4096 * 4096;

const u32 = (b: Uint8Array, at: number) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

/**
 * Parses IDX bytes (LeCun's format): magic 0x0000 08 NN (unsigned bytes, NN dimensions), NN big-endian uint32
 * sizes, then the data. `name` labels errors (a file name or URL). A wrong magic, a wrong dimension count or a
 * truncated array is a DatasetError. The data is a view into `bytes`, not a copy.
 */
export function parseIdx(bytes: Uint8Array, name = 'IDX data', expectedDims?: number): IdxBytes {
  if (bytes.length < 4) throw new DatasetError(name, `is ${bytes.length} bytes, too short for an IDX header`);
  const magic = u32(bytes, 0);
  const type = (magic >> 8) & 0xff;
  const ndim = magic & 0xff;
  if (magic >>> 16 !== 0 || type !== 0x08) {
    throw new DatasetError(name, `wrong magic number 0x${magic.toString(16).padStart(8, '0')}: not an IDX file of unsigned bytes`, 'expected 0x00000801 (labels) or 0x00000803 (images)');
  }
  if (expectedDims !== undefined && ndim !== expectedDims) {
    throw new DatasetError(name, `has ${ndim} dimensions, expected ${expectedDims} (magic 0x${magic.toString(16).padStart(8, '0')})`, expectedDims === 3 ? 'is this a labels file?' : 'is this an images file?');
  }
  const header = 4 + 4 * ndim;
  if (bytes.length < header) throw new DatasetError(name, 'is truncated inside its header');
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(u32(bytes, 4 + 4 * i));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - header < size) {
    throw new DatasetError(name, `is truncated: header promises ${size} bytes of data (${dims.join('×')}), it has ${bytes.length - header}`);
  }
  return { dims, data: bytes.subarray(header, header + size) };
}

/**
 * A greyscale IDX dataset (MNIST, Fashion-MNIST) from the bytes of its images file ([N, H, W]) and labels file
 * ([N]), e.g. fetched by a page. The counts must agree and labels must be < 10.
 */
export function idxDatasetFromBytes(name: string, images: Uint8Array, labels: Uint8Array): ByteImageDataset {
  const img = parseIdx(images, `${name} images`, 3);
  const lab = parseIdx(labels, `${name} labels`, 1);
  if (img.dims[0] !== lab.dims[0]) throw new DatasetError(name, `has ${img.dims[0]} images but ${lab.dims[0]} labels`);
  const bad = lab.data.findIndex((l) => l > 9);
  if (bad >= 0) throw new DatasetError(`${name} labels`, `label ${lab.data[bad]} at index ${bad} is not a digit class 0–9`);
  return new ByteImageDataset(name, [1, img.dims[1]!, img.dims[2]!], 10, img.data, lab.data);
}

/**
 * An ablate image from RGBA pixels (a canvas's `ImageData`, or anything shaped like it): `channels` 1 averages
 * R, G, B into grey (the demo's drawn digits), 3 keeps colour; alpha is composited over `background` (0 black,
 * 1 white). Values are b/255, on the 8-bit grid.
 */
export function imageFromImageData(pixels: { data: ArrayLike<number>; width: number; height: number }, channels: 1 | 3 = 1, background = 0): Image {
  const { width: W, height: H, data } = pixels;
  if (!Number.isInteger(W) || !Number.isInteger(H) || W < 1 || H < 1 || data.length !== 4 * W * H) {
    throw new ArgumentError('pixels', `must be RGBA of width × height × 4 bytes, got ${W} × ${H} with ${data.length} bytes`);
  }
  if (channels !== 1 && channels !== 3) throw new ArgumentError('channels', `must be 1 or 3, got ${String(channels)}`);
  const plane = W * H;
  const out = new Float32Array(channels * plane);
  for (let p = 0; p < plane; p++) {
    const a = data[4 * p + 3]! / 255;
    const mix = (v: number) => Math.round(v * a + 255 * background * (1 - a));
    if (channels === 1) out[p] = Math.round((mix(data[4 * p]!) + mix(data[4 * p + 1]!) + mix(data[4 * p + 2]!)) / 3) / 255;
    else for (let c = 0; c < 3; c++) out[c * plane + p] = mix(data[4 * p + c]!) / 255;
  }
  return { data: out, shape: [channels, H, W] };
}

/** Inflates zlib data with the platform's DecompressionStream (browsers, Node ≥ 18), refusing more than `max` bytes. */
async function inflate(zlib: Uint8Array, max: number, name: string): Promise<Uint8Array> {
  const DS = (globalThis as { DecompressionStream?: new (format: string) => TransformStream<Uint8Array, Uint8Array> }).DecompressionStream;
  if (!DS) throw new DatasetError(name, 'cannot be inflated: this platform has no DecompressionStream');
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(zlib);
      controller.close();
    },
  });
  const stream = source.pipeThrough(new DS('deflate'));
  const reader = stream.getReader();
  const out = new Uint8Array(max);
  let at = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (at + value.length > max) {
        await reader.cancel();
        throw new DatasetError(name, `inflates to more than the ${max} bytes its header allows`);
      }
      out.set(value, at);
      at += value.length;
    }
  } catch (error) {
    if (error instanceof DatasetError) throw error;
    throw new DatasetError(name, `has corrupt image data (${(error as Error).message})`);
  }
  return out.subarray(0, at);
}

/**
 * Decodes PNG bytes (8-bit greyscale, grey+alpha, RGB or RGBA; not interlaced) into an ablate image: 1 channel
 * for greyscale files, else 3 (alpha dropped), values b/255 — the files `ablate attack --save-examples` writes and
 * ordinary photos. Chunk CRCs are not checked; sizes are, before inflating (at most MAX_PNG_PIXELS).
 */
export async function decodePngBytes(bytes: Uint8Array, name = 'PNG data'): Promise<Image> {
  const SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 33 || SIG.some((v, i) => bytes[i] !== v)) throw new DatasetError(name, 'is not a PNG file (wrong signature)');
  let at = 8;
  let W = 0;
  let H = 0;
  let colorType = -1;
  const idat: Uint8Array[] = [];
  while (at + 8 <= bytes.length) {
    const len = u32(bytes, at);
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    if (at + 12 + len > bytes.length) throw new DatasetError(name, `is truncated inside its ${type} chunk`);
    const body = bytes.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      W = u32(body, 0);
      H = u32(body, 4);
      const depth = body[8]!;
      colorType = body[9]!;
      if (depth !== 8 || ![0, 2, 4, 6].includes(colorType) || body[12] !== 0) {
        throw new DatasetError(name, `is a ${depth}-bit PNG of colour type ${colorType}${body[12] ? ', interlaced' : ''}`, 'save it as an 8-bit, non-interlaced greyscale or RGB(A) PNG');
      }
      if (W < 1 || H < 1 || W * H > MAX_PNG_PIXELS) throw new DatasetError(name, `is ${W} × ${H} pixels, outside 1 … ${MAX_PNG_PIXELS}`);
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    at += 12 + len;
  }
  if (colorType < 0) throw new DatasetError(name, 'has no IHDR chunk');
  if (idat.length === 0) throw new DatasetError(name, 'has no image data (IDAT)');
  const bpp = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType as 0 | 2 | 4 | 6];
  const stride = W * bpp;
  const expected = H * (stride + 1);
  if (expected > MAX_BATCH_BYTES) throw new DatasetError(name, 'is too large to decode');
  const zlib = new Uint8Array(idat.reduce((a, c) => a + c.length, 0));
  let off = 0;
  for (const c of idat) {
    zlib.set(c, off);
    off += c.length;
  }
  const raw = await inflate(zlib, expected, name);
  if (raw.length !== expected) throw new DatasetError(name, `holds ${raw.length} bytes of scanlines, ${expected} expected for ${W} × ${H}`);
  // undo the per-scanline filters (PNG spec §9: None, Sub, Up, Average, Paeth)
  const px = new Uint8Array(H * stride);
  for (let y = 0; y < H; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = px.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? px.subarray((y - 1) * stride, y * stride) : undefined;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? row[i - bpp]! : 0;
      const b = prev ? prev[i]! : 0;
      const c = prev && i >= bpp ? prev[i - bpp]! : 0;
      let v = src[i]!;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new DatasetError(name, `row ${y} has unknown filter type ${filter}`);
      row[i] = v & 0xff;
    }
  }
  const grey = colorType === 0 || colorType === 4;
  const C = grey ? 1 : 3;
  const plane = W * H;
  const data = new Float32Array(C * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < C; c++) data[c * plane + p] = px[p * bpp + c]! / 255;
  return { data, shape: [C, H, W] };
}
