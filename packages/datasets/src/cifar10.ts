import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetError } from './errors.js';
import { ByteImageDataset, channelMeans } from './in-memory-dataset.js';
import { readDataFile, readDataFileAsync } from './read-file.js';
import { checkSplit, type Split } from './mnist.js';

const RECORD = 1 + 3 * 32 * 32;

/**
 * Reads CIFAR-10 binary batches (the "binary version": records of 1 label byte + 3072 pixel bytes, R then G
 * then B planes of 32×32). `train` = data_batch_1..5.bin, `test` = test_batch.bin, from `folder`.
 */
export function loadCifar10(folder: string, split: Split = 'test'): ByteImageDataset {
  return cifarDataset(folder, split, cifarFiles(folder, split).map((file) => checkBatch(file, readDataFile(file))));
}

/** `loadCifar10` reading the batches with fs/promises (the training mean, when asked for, is read synchronously). */
export async function loadCifar10Async(folder: string, split: Split = 'test'): Promise<ByteImageDataset> {
  const buffers: Buffer[] = [];
  for (const file of cifarFiles(folder, split)) buffers.push(checkBatch(file, await readDataFileAsync(file)));
  return cifarDataset(folder, split, buffers);
}

function cifarFiles(folder: string, split: Split): string[] {
  checkSplit(split);
  const files = split === 'test' ? ['test_batch.bin'] : [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
  return files.map((f) => join(folder, f)).filter((f, i) => i === 0 || existsSync(f));
}

function checkBatch(file: string, buf: Buffer): Buffer {
  if (buf.length === 0 || buf.length % RECORD !== 0) {
    throw new DatasetError(file, `has ${buf.length} bytes, not a multiple of the ${RECORD}-byte CIFAR-10 record (truncated?)`);
  }
  for (let off = 0; off < buf.length; off += RECORD) {
    if (buf[off]! > 9) throw new DatasetError(file, `record ${off / RECORD} has label ${buf[off]}, outside 0–9: not a CIFAR-10 binary batch`);
  }
  return buf;
}

function cifarDataset(folder: string, split: Split, buffers: Buffer[]): ByteImageDataset {
  const n = buffers.reduce((s, b) => s + b.length / RECORD, 0);
  const pixels = new Uint8Array(n * (RECORD - 1));
  const labels = new Uint8Array(n);
  let i = 0;
  for (const buf of buffers) {
    for (let off = 0; off < buf.length; off += RECORD, i++) {
      labels[i] = buf[off]!;
      pixels.set(buf.subarray(off + 1, off + RECORD), i * (RECORD - 1));
    }
  }
  const mean = () => (split === 'train' ? channelMeans(pixels, 3, 1024) : loadCifar10(folder, 'train').mean!);
  return new ByteImageDataset(`cifar10/${split}`, [3, 32, 32], 10, pixels, labels, mean);
}
