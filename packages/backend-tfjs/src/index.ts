/**
 * @ablate/backend-tfjs — importing this module registers the `tfjs` classifier plug-in in @ablate/core.
 */
import { registerTfjs } from './plugin.js';

export { TfjsClassifier, type TfjsClassifierOptions } from './tfjs-classifier.js';
export { selectBackend, TFJS_BACKENDS, TFJS_NATIVE_PACKAGES, type TfjsBackendName } from './tfjs-backends.js';
export { fileHandler, type TfjsModelFiles } from './model-files.js';
export { trainTfjs, type TfjsTrainOptions, type TfjsArchitecture, type TrainStart, type TrainBatch, type TrainEpoch } from './train.js';
export { tfjsPlugin, registerTfjs, type TfjsPluginOptions } from './plugin.js';

registerTfjs();
