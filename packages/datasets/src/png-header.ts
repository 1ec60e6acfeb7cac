import { closeSync, openSync, readSync } from 'node:fs';
import { DatasetError } from './errors.js';

/**
 * Largest image the image-folder reader decodes: 2²⁴ pixels (e.g. 4096 × 4096, 64 MiB as RGBA). A PNG is
 * compressed, so a file of a few hundred KB can declare 20000 × 20000 pixels (1.6 GB decoded): its header is
 * checked before any decoding.
 */
export const MAX_IMAGE_PIXELS = 2 ** 24;

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Width and height from a PNG's IHDR chunk (PNG spec §11.2.2: the 8-byte signature, then the IHDR chunk:
 * length 13, type "IHDR", width and height as 4-byte big-endian integers). Reads only the first 24 bytes.
 */
export function readPngSize(file: string): { width: number; height: number } {
  const head = Buffer.alloc(24);
  let read = 0;
  try {
    const fd = openSync(file, 'r');
    try {
      read = readSync(fd, head, 0, 24, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DatasetError(file, code === 'ENOENT' ? 'file not found (a broken link?)' : `cannot be read (${code ?? String(error)})`, 'check the file and its permissions');
  }
  if (read < 24 || SIGNATURE.some((b, i) => head[i] !== b) || head.toString('latin1', 12, 16) !== 'IHDR') {
    throw new DatasetError(file, 'is not a readable PNG (no PNG signature and IHDR header)');
  }
  return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
}

/** Throws a DatasetError naming the file unless width × height is a non-empty image of at most MAX_IMAGE_PIXELS. */
export function checkPngSize(file: string, size: { width: number; height: number }): void {
  const { width, height } = size;
  if (width === 0 || height === 0) throw new DatasetError(file, `declares an empty image (${width}×${height})`);
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new DatasetError(file, `declares ${width}×${height} pixels, more than the ${MAX_IMAGE_PIXELS} (4096×4096) an image may have`, 'resize the images to the model input size');
  }
}
