/**
 * @ablate/backend-onnx — importing this module registers the `onnx` classifier plug-in in @ablate/core.
 */
import { registerOnnx } from './plugin.js';

export { OnnxClassifier, availableExecutionProviders, KNOWN_EXECUTION_PROVIDERS, type OnnxClassifierOptions, type ExecutionProviderName } from './onnx-classifier.js';
export { onnxPlugin, registerOnnx, type OnnxPluginOptions } from './plugin.js';

registerOnnx();
