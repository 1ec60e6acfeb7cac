import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DatasetError } from './errors.js';

/** Reads a file (transparently gunzipping `.gz`), turning I/O errors into a DatasetError naming the file. */
export function readDataFile(file: string): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DatasetError(file, code === 'ENOENT' ? 'file not found' : `cannot be read (${code ?? String(error)})`, 'check the dataset path');
  }
  if (file.endsWith('.gz')) {
    try {
      return gunzipSync(raw);
    } catch {
      throw new DatasetError(file, 'is not a valid gzip file (truncated download?)');
    }
  }
  return raw;
}
