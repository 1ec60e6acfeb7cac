import { closeSync } from 'node:fs';
import { readFully } from '@ablate/core/node';
import { inflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { DatasetError } from './errors.js';
import { openDataFile, openDataFileAsync } from './read-file.js';

/**
 * Largest image the image-folder reader decodes: 2²⁴ pixels (e.g. 4096 × 4096, 64 MiB as RGBA). A PNG is
 * compressed, so a file of a few hundred KB can declare 20000 × 20000 pixels (1.6 GB decoded): its header is
 * checked before any decoding.
 */
export const MAX_IMAGE_PIXELS = 2 ** 24;

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Bytes of a PNG's head `readPngHeader` reads first (IHDR, and usually PLTE) … */
const HEAD_BYTES = 4096;
/** … and at most, for a palette image whose PLTE comes later (chunks before the first IDAT). */
const MAX_HEAD_BYTES = 64 * 1024;

/** Whether a palette image's PLTE lies beyond the first `head.length` bytes (so more must be read to judge it). */
function needsMore(header: PngHeader, head: Buffer, size: number): boolean {
  return header.colorType === 3 && !header.grey && head.length < Math.min(size, MAX_HEAD_BYTES) && !head.includes('PLTE', 33, 'latin1');
}

/** What a PNG's header says, read without decoding any pixel (PNG spec §11.2.2 IHDR, §11.2.3 PLTE). */
export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA. */
  colorType: number;
  interlace: number;
  /** True when every pixel is grey by the header alone: grey colour types, or a palette of grey entries only. */
  grey: boolean;
}

/** Samples per pixel of each colour type (PNG spec Table 11.1). */
const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

/**
 * Parses a PNG's header from its first bytes: the signature, IHDR (which must come first), and, for palette
 * images, PLTE when it lies within `head`. Throws a DatasetError naming `file` for anything that is not a PNG.
 */
export function parsePngHeader(file: string, head: Buffer): PngHeader {
  if (head.length < 33 || SIGNATURE.some((b, i) => head[i] !== b) || head.toString('latin1', 12, 16) !== 'IHDR' || head.readUInt32BE(8) !== 13) {
    throw new DatasetError(file, 'is not a readable PNG (no PNG signature and IHDR header)');
  }
  const width = head.readUInt32BE(16);
  const height = head.readUInt32BE(20);
  const bitDepth = head[24]!;
  const colorType = head[25]!;
  const interlace = head[28]!;
  if (!DEPTHS[colorType]?.includes(bitDepth) || head[26] !== 0 || head[27] !== 0 || interlace > 1) {
    throw new DatasetError(file, `is not a readable PNG (colour type ${colorType}, bit depth ${bitDepth}, interlace ${interlace} are not a valid combination)`);
  }
  let grey = colorType === 0 || colorType === 4;
  if (colorType === 3) {
    // a palette image is grey when every palette entry is
    for (let off = 33; off + 8 <= head.length; ) {
      const length = head.readUInt32BE(off);
      const type = head.toString('latin1', off + 4, off + 8);
      if (type === 'IDAT' || type === 'IEND') break;
      if (type === 'PLTE') {
        if (off + 8 + length > head.length) break;
        grey = true;
        for (let p = off + 8; p + 3 <= off + 8 + length; p += 3) if (head[p] !== head[p + 1] || head[p] !== head[p + 2]) grey = false;
        break;
      }
      off += 12 + length;
    }
  }
  return { width, height, bitDepth, colorType, interlace, grey };
}

/**
 * A PNG file's header (see PngHeader), reading at most its first 64 KiB. The file must be a regular file: a
 * FIFO, socket or device is refused at once (DatasetError naming it), never opened in a way that could block.
 */
export function readPngHeader(file: string): PngHeader {
  const { fd, size } = openDataFile(file);
  const readHead = (length: number) => {
    const head = Buffer.alloc(Math.min(size, length));
    return head.subarray(0, readFully(fd, head));
  };
  try {
    const head = readHead(HEAD_BYTES);
    const header = parsePngHeader(file, head);
    return needsMore(header, head, size) ? parsePngHeader(file, readHead(MAX_HEAD_BYTES)) : header;
  } catch (error) {
    if (error instanceof DatasetError) throw error;
    throw new DatasetError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'check the file and its permissions');
  } finally {
    closeSync(fd);
  }
}

/** `readPngHeader` with fs/promises (same checks: regular files only, opened non-blocking). */
export async function readPngHeaderAsync(file: string): Promise<PngHeader> {
  const handle = await openDataFileAsync(file);
  const size = (await handle.stat()).size;
  const readHead = async (length: number) => {
    const head = Buffer.alloc(Math.min(size, length));
    let off = 0;
    while (off < head.length) {
      const { bytesRead } = await handle.read(head, off, head.length - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return head.subarray(0, off);
  };
  try {
    const head = await readHead(HEAD_BYTES);
    const header = parsePngHeader(file, head);
    return needsMore(header, head, size) ? parsePngHeader(file, await readHead(MAX_HEAD_BYTES)) : header;
  } catch (error) {
    if (error instanceof DatasetError) throw error;
    throw new DatasetError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'check the file and its permissions');
  } finally {
    await handle.close();
  }
}

/**
 * Width and height from a PNG's IHDR chunk (PNG spec §11.2.2: the 8-byte signature, then the IHDR chunk:
 * length 13, type "IHDR", width and height as 4-byte big-endian integers), without decoding any pixel.
 */
export function readPngSize(file: string): { width: number; height: number } {
  const { width, height } = readPngHeader(file);
  return { width, height };
}

/** Throws a DatasetError naming the file unless width × height is a non-empty image of at most MAX_IMAGE_PIXELS. */
export function checkPngSize(file: string, size: { width: number; height: number }): void {
  const { width, height } = size;
  if (width === 0 || height === 0) throw new DatasetError(file, `declares an empty image (${width}×${height})`);
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new DatasetError(file, `declares ${width}×${height} pixels, more than the ${MAX_IMAGE_PIXELS} (4096×4096) an image may have`, 'resize the images to the model input size');
  }
}

/** A decoded PNG (no pngjs types on the public surface): RGBA pixels, 4 bytes per pixel, row by row. */
export interface DecodedPng {
  width: number;
  height: number;
  /** RGBA bytes, width · height · 4 (grey files expanded to R = G = B). */
  data: Buffer;
  /** The file's colour type (0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA). */
  colorType: number;
}

/** Adam7's passes: x start, y start, x step, y step (PNG spec §8.2). */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/**
 * Bytes the zlib stream of a PNG must inflate to: one filter byte plus ⌈width·bits/8⌉ bytes per scanline, over
 * the seven reduced images of an interlaced file (PNG spec §7.2, §8.2).
 */
export function expectedScanlineBytes(h: PngHeader): number {
  const bits = SAMPLES[h.colorType]! * h.bitDepth;
  const lines = (w: number, rows: number) => (w === 0 || rows === 0 ? 0 : rows * (1 + Math.ceil((w * bits) / 8)));
  if (h.interlace === 0) return lines(h.width, h.height);
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) total += lines(h.width > x0 ? Math.ceil((h.width - x0) / dx) : 0, h.height > y0 ? Math.ceil((h.height - y0) / dy) : 0);
  return total;
}

/**
 * Decodes a whole PNG file's bytes to RGBA, refusing (DatasetError naming `file`) anything that would decode
 * to a wrong image: a zlib stream that is corrupt or ends early (pngjs fills the missing rows with zeros — a
 * black image that would be certified), one that holds more or fewer bytes than the header's width, height,
 * colour type and bit depth need, or a header that differs from `expected` (the one checked before decoding).
 */
export function decodePngFile(file: string, bytes: Buffer, expected?: PngHeader): DecodedPng {
  const header = parsePngHeader(file, bytes);
  if (expected && (header.width !== expected.width || header.height !== expected.height || header.colorType !== expected.colorType)) {
    throw new DatasetError(file, 'changed while it was read (its header differs from the one checked before decoding)', 'is another program writing it?');
  }
  checkPngSize(file, header);
  const idat: Buffer[] = [];
  let ended = false;
  for (let off = 8; off + 12 <= bytes.length; ) {
    const length = bytes.readUInt32BE(off);
    const type = bytes.toString('latin1', off + 4, off + 8);
    if (off + 12 + length > bytes.length) throw new DatasetError(file, `is truncated inside its ${type} chunk (${length} bytes declared, ${bytes.length - off - 12} present)`);
    if (type === 'IDAT') idat.push(bytes.subarray(off + 8, off + 8 + length));
    if (type === 'IEND') {
      ended = true;
      break;
    }
    off += 12 + length;
  }
  if (idat.length === 0) throw new DatasetError(file, 'is truncated: it has no image data (IDAT chunk)');
  if (!ended) throw new DatasetError(file, 'is truncated: it has no IEND chunk (a partial download?)');
  const need = expectedScanlineBytes(header);
  let inflated: Buffer;
  try {
    inflated = inflateSync(Buffer.concat(idat), { maxOutputLength: need });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new DatasetError(file, `holds more image data than its ${header.width}×${header.height} header declares`, 'the file is corrupt');
    throw new DatasetError(file, `has corrupt compressed image data (zlib: ${(error as Error).message})`, 'the file is corrupt or truncated: replace it');
  }
  if (inflated.length !== need) {
    throw new DatasetError(file, `has truncated image data: ${inflated.length} of the ${need} bytes its ${header.width}×${header.height} header declares`, 'the file is corrupt or truncated: replace it');
  }
  try {
    const png = PNG.sync.read(bytes);
    return { width: png.width, height: png.height, data: png.data, colorType: header.colorType };
  } catch (error) {
    throw new DatasetError(file, `is not a readable PNG (${(error as Error).message})`);
  }
}
