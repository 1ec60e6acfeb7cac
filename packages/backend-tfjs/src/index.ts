/**
 * @ablate/backend-tfjs — importing this module registers the `tfjs` classifier plug-in in @ablate/core.
 */
import { registerTfjs } from './plugin.js';

export { TfjsClassifier, type TfjsClassifierOptions } from './tfjs-classifier.js';
export { selectBackend, TFJS_BACKENDS, type TfjsBackendName } from './tfjs-backends.js';
export { fileHandler } from './model-files.js';
export { trainTfjs, type TfjsTrainOptions, type TfjsArchitecture } from './train.js';
export { tfjsPlugin, registerTfjs } from './plugin.js';

registerTfjs();
