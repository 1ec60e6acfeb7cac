import { DatasetError } from './errors.js';
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

/** Parses the bytes of an IDX file (see `readIdx`); `file` names it in errors. */
export function parseIdx(file: string, buf: Buffer, expectedDims?: number): IdxArray {
  if (buf.length < 4) throw new DatasetError(file, `is ${buf.length} bytes, too short for an IDX header`);
  const magic = buf.readUInt32BE(0);
  const type = (magic >> 8) & 0xff;
  const ndim = magic & 0xff;
  if (magic >>> 16 !== 0 || type !== 0x08) {
    throw new DatasetError(file, `wrong magic number 0x${magic.toString(16).padStart(8, '0')}: not an IDX file of unsigned bytes`, 'expected 0x00000801 (labels) or 0x00000803 (images)');
  }
  if (expectedDims !== undefined && ndim !== expectedDims) {
    throw new DatasetError(file, `has ${ndim} dimensions, expected ${expectedDims} (magic 0x${magic.toString(16).padStart(8, '0')})`, expectedDims === 3 ? 'is this a labels file?' : 'is this an images file?');
  }
  const header = 4 + 4 * ndim;
  if (buf.length < header) throw new DatasetError(file, 'is truncated inside its header');
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  const size = dims.reduce((a, b) => a * b, 1);
  if (buf.length - header < size) {
    throw new DatasetError(file, `is truncated: header promises ${size} bytes of data (${dims.join('×')}), file has ${buf.length - header}`);
  }
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + header, size) };
}
