import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DatasetError } from './errors.js';

/** Largest size a `.gz` data file may decompress to (1 GiB; the MNIST training images are 47 MB). */
export const MAX_GUNZIPPED_BYTES = 1024 ** 3;

/**
 * Reads a file (transparently gunzipping `.gz`, at most MAX_GUNZIPPED_BYTES), turning I/O errors into a
 * DatasetError naming the file.
 */
export function readDataFile(file: string, maxGunzippedBytes = MAX_GUNZIPPED_BYTES): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DatasetError(file, code === 'ENOENT' ? 'file not found' : `cannot be read (${code ?? String(error)})`, 'check the dataset path');
  }
  if (file.endsWith('.gz')) {
    try {
      return gunzipSync(raw, { maxOutputLength: maxGunzippedBytes });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new DatasetError(file, `decompresses to more than ${maxGunzippedBytes} bytes`, 'is it the right file?');
      }
      throw new DatasetError(file, 'is not a valid gzip file (truncated download?)');
    }
  }
  return raw;
}
