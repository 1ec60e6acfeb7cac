/**
 * @ablate/datasets — dataset readers. Importing this module registers the `mnist`, `fashion-mnist`,
 * `cifar10` and `image-folder` dataset plug-ins in @ablate/core's registry.
 */
import { registerDatasets } from './plugins.js';

export { DatasetError } from './errors.js';
export { readIdx, readIdxAsync, parseIdx, type IdxArray } from './idx.js';
export { ByteImageDataset, channelMeans } from './in-memory-dataset.js';
export { loadMnist, loadFashionMnist, loadIdxDataset, loadMnistAsync, loadFashionMnistAsync, loadIdxDatasetAsync, bundledMnistFolder, DEBIAN_FASHION_MNIST, type Split } from './mnist.js';
export { loadCifar10, loadCifar10Async } from './cifar10.js';
export { loadImageFolder, loadImageFolderAsync, ImageFolderDataset, type ImageFolderOptions } from './image-folder.js';
export { MAX_IMAGE_PIXELS, readPngSize, readPngHeader, decodePngFile, type PngHeader, type DecodedPng } from './png-header.js';
export { MAX_DATA_FILE_BYTES, readDataFile, readDataFileAsync } from './read-file.js';
export { encodePng, decodePng } from './png.js';
export { datasetPlugins, mnistPlugin, fashionMnistPlugin, cifar10Plugin, imageFolderPlugin, registerDatasets, type IdxDatasetOptions } from './plugins.js';

registerDatasets();
