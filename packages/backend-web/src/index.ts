/**
 * @ablate/backend-web — importing this module registers the `onnx-web` classifier plug-in in @ablate/core.
 * Browser-safe: no Node built-in in its module graph.
 */
import { registerWebOnnx } from './plugin.js';

export { WebOnnxClassifier, WEB_EXECUTION_PROVIDERS, MAX_WEB_MODEL_BYTES, type WebOnnxClassifierOptions, type WebExecutionProviderName } from './web-classifier.js';
export { webOnnxPlugin, registerWebOnnx, type WebOnnxPluginOptions } from './plugin.js';

registerWebOnnx();
