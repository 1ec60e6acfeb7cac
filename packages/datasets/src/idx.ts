import { parseIdx as parseIdxBytes } from './browser.js';
import { readDataFile, readDataFileAsync } from './read-file.js';

/** A parsed IDX array (LeCun's format of MNIST and Fashion-MNIST): unsigned bytes with their dimensions. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * Parses an IDX file of unsigned bytes: magic 0x0000 08 NN (type ubyte, NN dimensions), NN big-endian
 * uint32 sizes, then the data. A wrong magic, a wrong type or a truncated file is a DatasetError naming it.
 */
export function readIdx(file: string, expectedDims?: number): IdxArray {
  return parseIdx(file, readDataFile(file), expectedDims);
}

/** `readIdx` reading the file with fs/promises. */
export async function readIdxAsync(file: string, expectedDims?: number): Promise<IdxArray> {
  return parseIdx(file, await readDataFileAsync(file), expectedDims);
}

/** Parses the bytes of an IDX file (see `readIdx`; the browser entry's `parseIdx` on them); `file` names it in errors. */
export function parseIdx(file: string, buf: Buffer, expectedDims?: number): IdxArray {
  const { dims, data } = parseIdxBytes(buf, file, expectedDims);
  // a plain Uint8Array view, not a Buffer (whose slice() would not copy)
  return { dims, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
